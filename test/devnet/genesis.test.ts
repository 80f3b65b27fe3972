import t from "tap";
import { devnetGenesis, devnetPolicy } from "../../devnet/genesis.js";
import { toChecksumAddress } from "../../lib/address.js";
import { toHex } from "../../lib/bytes.js";
import { buildGenesis } from "../../node/genesis.js";
import { parseGenesis } from "../../vm/genesis.js";
import { operatorOf, validatorOf } from "../vm/helpers.js";

function validators(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    address: toChecksumAddress(validatorOf(i, 0).address),
    publicKey: toHex(validatorOf(i, 0).publicKey),
    operator: operatorOf(i).hex,
  }));
}

// 2026-11-24T17:00:00.500Z: genesis in November.
const NOW = 1_795_539_600_500n;

t.test("the genesis passes the vm's and the node's checks, for every set size", async (t) => {
  for (let n = 1; n <= 16; n++) {
    const json = devnetGenesis({
      validators: validators(n),
      periodMs: 120_000n,
      mode: "batch",
      now: NOW,
    });
    const g = parseGenesis(json);
    t.equal(g.utilities.length, n, `${n}: one utility per validator`);
    t.equal(buildGenesis(json).validators.length, n, `${n}: the node accepts it`);
    const perUtility = new Map<string, number>();
    for (const v of g.validators) perUtility.set(v.utility, (perUtility.get(v.utility) ?? 0) + 1);
    if (n >= 4) {
      t.ok(
        [...perUtility.values()].every((c) => 3 * c < n),
        `${n}: no utility holds a third of the set`,
      );
    }
  }
});

t.test("chain id, schedule and market mode", async (t) => {
  const json = devnetGenesis({
    validators: validators(4),
    periodMs: 60_000n,
    mode: "paper",
    now: NOW,
  });
  const g = parseGenesis(json);
  t.equal(json.chainId, "wattcap-devnet");
  t.equal(g.params.marketMode, "paper");
  t.same(
    json.periods,
    {
      kind: "fixed",
      startMs: "1795539601000",
      lengthMs: "60000",
      genesisMonth: 10,
    },
    "fixed periods of --period from the next whole second; month 0 is the current UTC month",
  );
  t.same(
    g.utilities.map((u) => u.id),
    ["u0", "u1", "u2", "u3"],
  );
});

t.test("the policy is scaled to the compressed month", async (t) => {
  const p = devnetPolicy(120_000n);
  t.equal(p.reductionBps, 1000, "caps 10% below baseline");
  t.equal(p.readingGrace, "12000", "a tenth of the month");
  t.equal(p.tradingWindow, "30000", "a quarter");
  t.equal(p.noticePeriod, "60000", "a half");
  t.equal(p.readingInterval, "4000", "a compressed day is a thirtieth");
  t.ok(BigInt(p.floorPrice as string) < BigInt(p.penaltyPrice as string));
});
