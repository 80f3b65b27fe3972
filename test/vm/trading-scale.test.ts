// A 2,000-household period through the whole chain path in batch mode — finalisation, standing
// orders, the auctions, compliance and expiry — with a work bound of 500 per block: no block
// settles more than 500 households in any stage, and each household is settled exactly once.
// test/soak/settlement-soak.ts runs the same with 100,000.
import t from "tap";
import { runAtScale } from "./fixtures/trading/scale.js";

const HOUSEHOLDS = 2000;
const BOUND = 500;

t.test("2,000 households settle within the per-block bound, each exactly once", async (t) => {
  const run = await runAtScale(HOUSEHOLDS, BOUND);
  t.ok(
    run.maxFinalisedPerBlock <= BOUND,
    `≤ ${BOUND} finalised a block (${run.maxFinalisedPerBlock})`,
  );
  t.ok(run.maxStandingPerBlock <= BOUND, `≤ ${BOUND} standing orders a block`);
  t.ok(run.maxCompliancePerBlock <= BOUND, `≤ ${BOUND} compliance steps a block`);
  t.ok(run.blocks >= (4 * HOUSEHOLDS) / BOUND, "the work was spread over blocks");
  t.equal(new Set(run.placed).size, HOUSEHOLDS, "every standing order placed");
  t.equal(run.placed.length, HOUSEHOLDS, "… once");
  t.equal(new Set(run.complied).size, HOUSEHOLDS / 2, "every owing household complied");
  t.equal(run.complied.length, HOUSEHOLDS / 2, "… once");
  t.equal(run.traded, 300n * BigInt(HOUSEHOLDS / 2), "every shortfall was bought");
  t.equal(run.minted, 300n * BigInt(HOUSEHOLDS / 2));
  t.equal(run.surrendered, run.minted);
  t.equal(run.penaltyOfAnyBuyer, 0n);
  t.same(run.broken, []);
});
