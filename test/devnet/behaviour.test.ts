// The household behaviour and population: seeded, and responding the documented way.
import fc from "fast-check";
import t from "tap";
import {
  DEFAULT_BEHAVIOUR,
  type HouseholdTraits,
  responsePpm,
  traitsOf,
} from "../../devnet/behaviour.js";
import {
  baselines,
  monthWh,
  population,
  registeredBaselines,
  runMonth,
} from "../../devnet/population.js";
import { loadProfiles } from "../../meter-oracle/profile.js";

const M = DEFAULT_BEHAVIOUR;
const responder: HouseholdTraits = { kind: "responder", elasticity: 0.2 };
const values = { underCap: 155n, overCap: 300n };

t.test("responders cut by the constant-elasticity response, within the cap on cuts", async (t) => {
  // Over cap: v = 300 on a tariff of 150, (1 + 2)^-0.2.
  t.equal(responsePpm(M, responder, 1000n, 900n, values), Math.round(3 ** -0.2 * 1e6));
  // Under cap: v = 155.
  t.equal(
    responsePpm(M, responder, 1000n, 1010n, values),
    Math.round((1 + 155 / 150) ** -0.2 * 1e6),
  );
  t.equal(
    responsePpm(M, { kind: "responder", elasticity: 5 }, 1000n, 900n, values),
    700_000,
    "at most 30 %",
  );
  t.equal(
    responsePpm(M, responder, 1000n, 900n, { underCap: 0n, overCap: 0n }),
    1_000_000,
    "no value, no cut",
  );
  fc.assert(
    fc.property(
      fc.bigInt(1n, 10n ** 7n),
      fc.bigInt(0n, 10n ** 7n),
      fc.bigInt(0n, 1000n),
      (u, c, v) => {
        const ppm = responsePpm(M, responder, u, c, { underCap: v, overCap: v });
        return ppm >= 700_000 && ppm <= 1_000_000;
      },
    ),
  );
});

t.test("free riders never respond; rebounders use half a comfortable slack", async (t) => {
  t.equal(responsePpm(M, { kind: "free-rider", elasticity: 0 }, 1000n, 500n, values), 1_000_000);
  const rebounder: HouseholdTraits = { kind: "rebounder", elasticity: 0.2 };
  t.equal(responsePpm(M, rebounder, 1000n, 1200n, values), 1_100_000, "U + (C − U)/2");
  t.equal(
    responsePpm(M, rebounder, 1000n, 1040n, values),
    responsePpm(M, responder, 1000n, 1040n, values),
    "within 5 % of the cap it responds like a responder",
  );
});

t.test("kinds follow the shares", async (t) => {
  t.equal(traitsOf(M, 0, 0).kind, "free-rider");
  t.equal(traitsOf(M, Math.floor(0.3 * 2 ** 32), 0).kind, "rebounder");
  t.equal(traitsOf(M, Math.floor(0.5 * 2 ** 32), 0).kind, "responder");
  t.equal(traitsOf(M, Math.floor(0.5 * 2 ** 32), 2 ** 31).elasticity, 0.2);
});

t.test("a population is fixed by its seed; baselines land in the chain's months", async (t) => {
  const profiles = await loadProfiles();
  const spec = { seed: 3, households: 4, startMonth: 3, behaviour: M };
  const a = population(profiles, spec);
  const b = population(profiles, spec);
  t.same(
    a.map((h) => [h.traits, h.baselineChangePpm, h.secretKey, h.sim.scalePpm]),
    b.map((h) => [h.traits, h.baselineChangePpm, h.secretKey, h.sim.scalePpm]),
  );
  const other = population(profiles, { ...spec, seed: 4 });
  t.not(
    Buffer.from(other[0]!.secretKey).toString("hex"),
    Buffer.from(a[0]!.secretKey).toString("hex"),
  );
  const h = a[0]!;
  const calendar = baselines(h, 3);
  // Last year's March, times the year-on-year change, in calendar slot 2.
  const lastMarch = monthWh(h.sim, runMonth(3, -12));
  t.equal(calendar[2], (lastMarch * BigInt(1_000_000 + h.baselineChangePpm)) / 1_000_000n);
  // The run's first month (March) is chain month 7: slot 7 holds March's baseline, slot 8 April's.
  const onChain = registeredBaselines(calendar, 3, 7);
  t.equal(onChain[7], calendar[2]);
  t.equal(onChain[8], calendar[3]);
  t.equal(onChain[6], calendar[1]);
  t.same(registeredBaselines(calendar, 3, 2), calendar, "the identity when the months match");
});
