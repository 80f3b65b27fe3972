import t from "tap";
import { decode, encode } from "../../lib/codec.js";
import { StateOverlay } from "../../state/overlay.js";
import { ExecutionContext } from "../../vm/context.js";
import {
  addTrade,
  averagePrice,
  emptyStatement,
  gainAgainstNoMarket,
  NO_TRADE,
  type Statement,
  StatementSchema,
  statementTable,
  updateStatement,
} from "../../vm/settlement/statement.js";
import { Harness } from "./fixtures/settlement/harness.js";

const base = emptyStatement("u0", 3n, 300n);

t.test(
  "gain against no market: (sales − purchases − penalty + buy-back + rebate) + penaltyPrice × obligation",
  async (t) => {
    t.equal(gainAgainstNoMarket(base), 0n, "nothing happened: no gain");
    // Over the cap by 100 Wh; bought 80 at 150 (12,000), penalised 20 × 300 (6,000). Without a
    // market: 100 × 300 = 30,000 of penalty. Gain: −12,000 − 6,000 + 30,000 = 12,000.
    const buyer: Statement = {
      ...base,
      obligation: 100n,
      bought: { qty: 80n, value: 12_000n },
      surrendered: 80n,
      uncovered: 20n,
      penalty: 6_000n,
    };
    t.equal(gainAgainstNoMarket(buyer), 12_000n);
    // Under the cap: minted 500, sold 300 for 45,000, 200 bought back at 5 (1,000).
    const seller: Statement = {
      ...base,
      minted: 500n,
      sold: { qty: 300n, value: 45_000n },
      buyback: { qty: 200n, value: 1_000n },
    };
    t.equal(gainAgainstNoMarket(seller), 46_000n);
    // A rebate counts like a sale to the utility.
    t.equal(gainAgainstNoMarket({ ...base, rebate: { qty: 10n, value: 700n } }), 700n);
  },
);

t.test("average prices and running trade totals", async (t) => {
  t.equal(averagePrice(NO_TRADE), undefined);
  const total = addTrade(addTrade(NO_TRADE, 10n, 1_500n), 20n, 2_000n);
  t.same(total, { qty: 30n, value: 3_500n });
  t.equal(averagePrice(total), 116n, "3500 / 30, floored");
});

t.test("the statement schema round-trips every field", async (t) => {
  const full: Statement = {
    ...base,
    status: "settled",
    cap: 900n,
    capSource: "explicit",
    weighted: true,
    consumption: 801n,
    peak: 301n,
    weightedConsumption: 951n,
    estimated: true,
    estimateAdjustment: -89n,
    corrections: [{ period: 2n, reason: "tamper", amount: -5n, reference: "X" }],
    settledConsumption: 857n,
    minted: 43n,
    obligation: 0n,
    bought: { qty: 1n, value: 2n },
    sold: { qty: 3n, value: 4n },
    surrendered: 5n,
    uncovered: 6n,
    penalty: 7n,
    rebate: { qty: 8n, value: 9n },
    buyback: { qty: 10n, value: 11n },
  };
  t.same(decode(StatementSchema, encode(StatementSchema, full)), full);
});

t.test("updateStatement creates the statement with the period's penalty price", async (t) => {
  const h = await Harness.create({ households: { A: { baselines: 1000n } } });
  const view = h.chain.view();
  const ctx = new ExecutionContext(new StateOverlay(h.chain.state), {
    block: view.block,
    params: view.params,
    evidence: [],
    householdCloseHooks: [],
    validatorUpdate: undefined,
  });
  const first = updateStatement(ctx, h.address("A"), 0n, (s) => ({
    ...s,
    sold: addTrade(s.sold, 5n, 500n),
  }));
  t.equal(first.penaltyPrice, 300n, "from the genesis policy");
  t.equal(first.status, "open");
  const second = updateStatement(ctx, h.address("A"), 0n, (s) => ({
    ...s,
    sold: addTrade(s.sold, 5n, 700n),
  }));
  t.same(second.sold, { qty: 10n, value: 1_200n });
  t.same(ctx.get(statementTable, [h.address("A"), 0n]), second);
});
