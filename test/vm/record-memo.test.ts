// StateView memoises decoded records by state key and bytes object (vm/context.ts). Reads must
// still be exactly those of decoding every time: across rewrites of a key, on keyed and plain
// readers alike, and never across schemas.
import fc from "fast-check";
import t from "tap";
import { decode, encode, i64, struct, u64 } from "../../lib/codec.js";
import { StateOverlay, type StateReader } from "../../state/overlay.js";
import { StateView } from "../../vm/context.js";
import { keys } from "../../vm/keys.js";
import { type Account, AccountSchema } from "../../vm/model/account.js";
import { table, tables } from "../../vm/tables.js";
import { TestChain } from "./helpers.js";

const chain = new TestChain();
const base = chain.view();
const address = (n: number) => new Uint8Array(20).fill(n + 1);

/** The overlay seen through a reader that is not keyed, so StateView takes its plain path. */
const plain = (overlay: StateOverlay): StateReader => ({
  get: (key) => overlay.get(key),
  scan: (prefix, options) => overlay.scan(prefix, options),
});

const viewsOf = (overlay: StateOverlay) =>
  [overlay, plain(overlay)].map((state) => new StateView(state, base.block, base.params));

t.test("memoised reads equal fresh decodes through rewrites of the keys (property)", async (t) => {
  const accountArb = fc.record({
    nonce: fc.bigInt({ min: 0n, max: 5n }),
    balance: fc.bigInt({ min: -5n, max: 5n }),
  });
  const stepArb = fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.option(accountArb, { nil: undefined }),
  );
  const property = fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
    const overlay = new StateOverlay(chain.state);
    const views = viewsOf(overlay);
    for (const [n, account] of steps) {
      const key = keys.account(address(n));
      if (account === undefined) overlay.delete(key);
      else overlay.set(key, encode(AccountSchema, account));
      for (let m = 0; m <= 3; m++) {
        const stored = overlay.get(keys.account(address(m)));
        const want = stored === undefined ? undefined : decode(AccountSchema, stored);
        for (const view of views) t.same(view.get(tables.account, address(m)), want);
      }
    }
  });
  fc.assert(property, { numRuns: 50, seed: 3 });
});

t.test("a hit is the same frozen record; another schema over the same bytes is not", async (t) => {
  const overlay = new StateOverlay(chain.state);
  const account: Account = { nonce: 3n, balance: -2n };
  overlay.set(keys.account(address(9)), encode(AccountSchema, account));
  const [keyed, unkeyed] = viewsOf(overlay);
  const first = keyed!.get(tables.account, address(9));
  t.same(first, account);
  t.equal(keyed!.get(tables.account, address(9)), first, "served from the memo");
  t.ok(Object.isFrozen(first));
  // The same wire shape under other field names: decoded anew, not the account record.
  const other = table("other", keys.account, struct("Other", { a: u64, b: i64 }));
  t.same(keyed!.get(other, address(9)), { a: 3n, b: -2n });
  t.same(unkeyed!.get(tables.account, address(9)), account);
});
