// Each household's list of vintages (settlement/credits.ts creditVintagesTable) lets creditsOf
// read its holdings with lookups instead of a range scan; it must name exactly the holdings
// putHolding leaves, oldest first, whatever order they come and go in.
import fc from "fast-check";
import t from "tap";
import { StateOverlay } from "../../state/overlay.js";
import { ExecutionContext } from "../../vm/context.js";
import {
  creditsOf,
  creditVintagesTable,
  mintCredits,
  putHolding,
} from "../../vm/settlement/credits.js";
import { actor, TestChain } from "./helpers.js";

function freshContext(): ExecutionContext {
  const chain = new TestChain();
  const view = chain.view();
  return new ExecutionContext(new StateOverlay(chain.state), {
    block: view.block,
    params: view.params,
    evidence: [],
    householdCloseHooks: [],
    validatorUpdate: undefined,
  });
}

const household = actor(1).address;
const other = actor(2).address;

t.test("creditsOf lists the non-empty holdings, oldest first", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 6n }), fc.bigInt({ min: 0n, max: 3n })), {
          maxLength: 40,
        }),
        (writes) => {
          const ctx = freshContext();
          const model = new Map<bigint, bigint>();
          for (const [vintage, amount] of writes) {
            putHolding(ctx, household, vintage, { amount, locked: 0n });
            model.set(vintage, amount);
          }
          const expected = [...model]
            .filter(([, amount]) => amount > 0n)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([vintage, amount]) => ({ vintage, amount, locked: 0n }));
          const actual = creditsOf(ctx, household);
          if (
            JSON.stringify(actual, (_, v) => String(v)) !==
            JSON.stringify(expected, (_, v) => String(v))
          ) {
            return false;
          }
          // An emptied household keeps no list at all.
          return expected.length > 0 || ctx.get(creditVintagesTable, household) === undefined;
        },
      ),
    ),
  );
});

t.test("minting adds the vintage once; other households are untouched", async (t) => {
  const ctx = freshContext();
  mintCredits(ctx, household, 3n, 10n);
  mintCredits(ctx, household, 1n, 5n);
  mintCredits(ctx, household, 3n, 2n);
  t.same(ctx.get(creditVintagesTable, household), [1n, 3n]);
  t.same(
    creditsOf(ctx, household).map((h) => [h.vintage, h.amount]),
    [
      [1n, 5n],
      [3n, 12n],
    ],
  );
  t.same(creditsOf(ctx, other), []);
  t.throws(() => putHolding(ctx, household, 1n, { amount: 1n, locked: 2n }), /bounds/);
});
