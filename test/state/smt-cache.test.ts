import t from "tap";
import { u64be } from "../../lib/bytes.js";
import { NodeCache } from "../../state/smt/cache.js";
import { Internal } from "../../state/smt/internal.js";
import { rootNodeKey } from "../../state/smt/node.js";

const key = (i: number) => rootNodeKey(u64be(BigInt(i)));
const hash = (i: number) => new Uint8Array(32).fill(i);

t.test("a full cache keeps its newer half, and an entry taken and put back is new", async (t) => {
  const cache = new NodeCache(8);
  const nodes = Array.from({ length: 9 }, () => Internal.empty());
  for (let i = 0; i < 8; i++) cache.put(key(i), hash(i), nodes[i]!);
  t.equal(cache.get(key(0), hash(0)), nodes[0], "under capacity nothing goes");
  t.equal(cache.get(key(0), hash(1)), undefined, "only under the hash it was cached with");
  // Taken out and put back: node 1 is now the newest entry.
  t.equal(cache.take(key(1), hash(1)), nodes[1]);
  t.equal(cache.take(key(1), hash(1)), undefined, "a taken node is no longer cached");
  cache.put(key(1), hash(1), nodes[1]!);
  cache.put(key(8), hash(8), nodes[8]!);
  for (const i of [0, 2, 3, 4]) t.equal(cache.get(key(i), hash(i)), undefined, `${i} dropped`);
  for (const i of [5, 6, 7, 1, 8]) t.equal(cache.get(key(i), hash(i)), nodes[i], `${i} kept`);
});

t.test(
  "forgetVersion drops the nodes written at a version; capacity 0 caches nothing",
  async (t) => {
    const cache = new NodeCache(8);
    const node = Internal.empty();
    cache.put(key(3), hash(3), node);
    cache.put(key(4), hash(4), node);
    cache.forgetVersion(u64be(3n));
    t.equal(cache.get(key(3), hash(3)), undefined);
    t.equal(cache.get(key(4), hash(4)), node);
    const off = new NodeCache(0);
    off.put(key(1), hash(1), node);
    t.equal(off.get(key(1), hash(1)), undefined);
  },
);
