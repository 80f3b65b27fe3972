import { deepStrictEqual, ok } from "node:assert/strict";
import fc from "fast-check";
import t from "tap";
import { byteString, compareBytes, fromHex, toHex } from "../../lib/bytes.js";
import {
  emptyState,
  type KeyedStateReader,
  StateOverlay,
  type StateReader,
} from "../../state/overlay.js";

type Entries = Array<readonly [Uint8Array, Uint8Array]>;

/** A committed state as a sorted array, scanned in pages the way the LevelDB reader is. */
function sortedReader(entries: Map<string, Uint8Array>): StateReader {
  const sorted = [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    get: (key) => entries.get(toHex(key)),
    scan: async (prefix, options = {}) => {
      const p = toHex(prefix);
      const after = options.after === undefined ? undefined : toHex(options.after);
      const out: Entries = [];
      for (const [hex, value] of sorted) {
        if (out.length >= (options.limit ?? Number.POSITIVE_INFINITY)) break;
        if (hex.startsWith(p) && (after === undefined || hex > after))
          out.push([fromHex(hex), value]);
      }
      return out;
    },
  };
}

/** The reader as a KeyedStateReader, checking that every id it is handed is its key's. */
function keyedReader(reader: StateReader): KeyedStateReader {
  return {
    get: (key) => reader.get(key),
    getKeyed: (id, key) => {
      if (id !== byteString(key)) throw new Error(`getKeyed: id of another key than ${toHex(key)}`);
      return reader.get(key);
    },
    scan: (prefix, options) => reader.scan(prefix, options),
  };
}

function modelScan(
  state: Map<string, Uint8Array>,
  prefix: Uint8Array,
  after: Uint8Array | undefined,
  limit: number | undefined,
): Array<[string, string]> {
  const p = toHex(prefix);
  const a = after === undefined ? undefined : toHex(after);
  return [...state.entries()]
    .filter(([hex]) => hex.startsWith(p) && (a === undefined || hex > a))
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .slice(0, limit)
    .map(([hex, value]) => [hex, toHex(value)]);
}

const asHex = (entries: Entries): Array<[string, string]> =>
  entries.map(([k, v]) => [toHex(k), toHex(v)]);

// A few bytes including 0x00 and 0xff, so keys are often prefixes of one another.
const keyArb = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((k) => k.map((b) => b & 0x83));
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 3 });

type Op =
  | { op: "set"; key: Uint8Array; value: Uint8Array }
  | { op: "delete"; key: Uint8Array }
  | { op: "get"; key: Uint8Array }
  | { op: "begin" }
  | { op: "merge" }
  | { op: "drop" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant("set" as const), key: keyArb, value: valueArb }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("delete" as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("get" as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ op: "begin" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "merge" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "drop" as const }) },
);

const baseArb = fc.array(fc.tuple(keyArb, valueArb), { maxLength: 20 }).map((pairs) => {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of pairs) m.set(toHex(k), v);
  return m;
});

const scanArb = fc.record({
  prefix: fc.uint8Array({ maxLength: 2 }).map((k) => k.map((b) => b & 0x83)),
  after: fc.option(keyArb, { nil: undefined }),
  limit: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
});

/**
 * Applies the ops to overlays and to a model: a stack of maps where undefined is a delete. The
 * root overlay reads a plain reader, or a keyed one (as the block's overlay reads the store),
 * and may remember its reads (as the block's overlay does); a get is checked as it happens.
 */
function run(base: Map<string, Uint8Array>, ops: Op[], keyed = false, cacheReads = false) {
  const reader = sortedReader(base);
  const root = new StateOverlay(keyed ? keyedReader(reader) : reader, { cacheReads });
  const stack: StateOverlay[] = [root];
  const model: Array<Map<string, Uint8Array | undefined>> = [new Map()];
  for (const step of ops) {
    const top = stack[stack.length - 1]!;
    const layer = model[model.length - 1]!;
    if (step.op === "set") {
      top.set(step.key, step.value);
      layer.set(toHex(step.key), step.value.slice());
    } else if (step.op === "delete") {
      top.delete(step.key);
      layer.set(toHex(step.key), undefined);
    } else if (step.op === "get") {
      let want = base.get(toHex(step.key));
      for (const m of model) if (m.has(toHex(step.key))) want = m.get(toHex(step.key));
      deepStrictEqual(top.get(step.key), want, `get ${toHex(step.key)} during the ops`);
    } else if (step.op === "begin") {
      stack.push(top.child());
      model.push(new Map());
    } else if (stack.length > 1) {
      const child = stack.pop()!;
      const writes = model.pop()!;
      if (step.op === "merge") {
        child.mergeIntoParent();
        for (const [k, v] of writes) model[model.length - 1]!.set(k, v);
      }
    }
  }
  const effective = (depth: number): Map<string, Uint8Array> => {
    const state = new Map(base);
    for (const layer of model.slice(0, depth + 1)) {
      for (const [k, v] of layer) {
        if (v === undefined) state.delete(k);
        else state.set(k, v);
      }
    }
    return state;
  };
  return { root, stack, effective };
}

t.test("get and scan match a model map after random writes in nested overlays", async (t) => {
  const property = fc.asyncProperty(
    baseArb,
    fc.array(opArb, { maxLength: 40 }),
    scanArb,
    fc.boolean(),
    fc.boolean(),
    async (base, ops, q, keyed, cacheReads) => {
      const { stack, effective } = run(base, ops, keyed, cacheReads);
      for (let depth = 0; depth < stack.length; depth++) {
        const overlay = stack[depth]!;
        const state = effective(depth);
        for (const hex of new Set([
          ...state.keys(),
          ...ops.flatMap((o) => ("key" in o ? [toHex(o.key)] : [])),
        ])) {
          deepStrictEqual(overlay.get(fromHex(hex)), state.get(hex), `get ${hex}`);
        }
        const scanned = asHex(await overlay.scan(q.prefix, { after: q.after, limit: q.limit }));
        deepStrictEqual(scanned, modelScan(state, q.prefix, q.after, q.limit));
      }
    },
  );
  await t.resolves(fc.assert(property, { numRuns: 300 }));
});

t.test("changes() is the effective diff against the base, sorted by key", async (t) => {
  const property = fc.asyncProperty(
    baseArb,
    fc.array(opArb, { maxLength: 40 }),
    fc.boolean(),
    fc.boolean(),
    async (base, ops, keyed, cacheReads) => {
      const { root, effective } = run(base, ops, keyed, cacheReads);
      const after = effective(0);
      const want: Array<[string, string | undefined]> = [];
      for (const hex of new Set([...base.keys(), ...after.keys()])) {
        const before = base.get(hex);
        const now = after.get(hex);
        const b = before === undefined ? undefined : toHex(before);
        const n = now === undefined ? undefined : toHex(now);
        if (b !== n) want.push([hex, n]);
      }
      want.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      const got = root
        .changes()
        .map(([k, v]): [string, string | undefined] => [
          toHex(k),
          v === undefined ? undefined : toHex(v),
        ]);
      deepStrictEqual(got, want);
      const keys = root.changes().map(([k]) => k);
      for (let i = 1; i < keys.length; i++) ok(compareBytes(keys[i - 1]!, keys[i]!) < 0);
    },
  );
  await t.resolves(fc.assert(property, { numRuns: 200 }));
});

t.test("a dropped child leaves the parent untouched; a merged one lands in it", async (t) => {
  const root = new StateOverlay(emptyState);
  root.set(Uint8Array.of(1), Uint8Array.of(10));
  const failed = root.child();
  failed.set(Uint8Array.of(1), Uint8Array.of(11));
  failed.delete(Uint8Array.of(1));
  failed.set(Uint8Array.of(2), Uint8Array.of(20));
  t.equal(failed.get(Uint8Array.of(1)), undefined);
  t.same(root.get(Uint8Array.of(1)), Uint8Array.of(10));
  t.equal(root.get(Uint8Array.of(2)), undefined);
  const ok = root.child();
  ok.set(Uint8Array.of(2), Uint8Array.of(21));
  ok.mergeIntoParent();
  t.same(root.get(Uint8Array.of(2)), Uint8Array.of(21));
  t.same(ok.changes(), [], "a merged child is left empty");
  t.same(asHex(await root.scan(new Uint8Array())), [
    ["01", "0a"],
    ["02", "15"],
  ]);
  t.throws(() => root.mergeIntoParent(), /not made by child/);
});

t.test("set copies its arguments so later mutation by the caller changes nothing", async (t) => {
  const o = new StateOverlay(emptyState);
  const key = Uint8Array.of(5);
  const value = Uint8Array.of(6);
  o.set(key, value);
  key[0] = 9;
  value[0] = 9;
  t.same(o.get(Uint8Array.of(5)), Uint8Array.of(6));
  t.equal(o.get(Uint8Array.of(9)), undefined);
});

t.test("scan pages through base entries hidden by deletes", async (t) => {
  const base = new Map<string, Uint8Array>();
  for (let i = 0; i < 10; i++) base.set(toHex(Uint8Array.of(7, i)), Uint8Array.of(i));
  const o = new StateOverlay(sortedReader(base));
  for (let i = 0; i < 8; i++) o.delete(Uint8Array.of(7, i));
  o.set(Uint8Array.of(7, 3, 1), Uint8Array.of(99));
  t.same(asHex(await o.scan(Uint8Array.of(7), { limit: 2 })), [
    ["070301", "63"],
    ["0708", "08"],
  ]);
  t.same(asHex(await o.scan(Uint8Array.of(7), { after: Uint8Array.of(7, 8), limit: 5 })), [
    ["0709", "09"],
  ]);
  t.same(await o.scan(Uint8Array.of(8)), []);
});
