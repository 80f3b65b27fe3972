import fc from "fast-check";
import t from "tap";
import {
  activationHeight,
  type BlockValidatorUpdates,
  checkCommitQuorum,
  maxFaulty,
  nextValidatorSet,
  proposerIndex,
  quorum,
  skipThreshold,
} from "../../consensus/validator-set.js";

t.test("thresholds for n = 1..10", async (t) => {
  const ns = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  t.same(ns.map(quorum), [1, 2, 3, 3, 4, 5, 5, 6, 7, 7]);
  t.same(ns.map(maxFaulty), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
  t.same(ns.map(skipThreshold), [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
  t.throws(() => quorum(0), RangeError);
  t.throws(() => maxFaulty(2.5), RangeError);
});

t.test("quorums intersect in a correct validator and the correct ones make one", async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), (n) => {
        const q = quorum(n);
        const f = maxFaulty(n);
        return (
          3 * q > 2 * n && // more than two thirds...
          3 * (q - 1) <= 2 * n && // ...and the least such count
          2 * q - n > f && // two quorums share more than f validators
          n - f >= q && // the correct validators alone reach a quorum
          3 * f < n // f is the most that BFT tolerates
        );
      }),
    ),
  );
});

t.test("proposers rotate round-robin by height and round", async (t) => {
  t.same(
    [0, 1, 2, 3, 4].map((r) => proposerIndex(1n, r, 4)),
    [1, 2, 3, 0, 1],
  );
  t.same(
    [0n, 1n, 2n].map((h) => proposerIndex(h, 0, 3)),
    [0, 1, 2],
  );
  t.equal(proposerIndex(2n ** 64n - 1n, 0, 7), Number((2n ** 64n - 1n) % 7n));
});

t.test("commit certificates need a quorum of distinct members", async (t) => {
  const cases: Array<[number[], number, string]> = [
    [[0, 1, 3], 4, "ok"],
    [[3, 1, 0, 2], 4, "ok"],
    [[0], 1, "ok"],
    [[0, 1], 4, "NO_QUORUM"],
    [[], 1, "NO_QUORUM"],
    [[0, 1, 1], 4, "DUPLICATE_SIGNER"],
    [[0, 1, 4], 4, "SIGNER_OUT_OF_RANGE"],
    [[-1, 0, 1, 2], 4, "SIGNER_OUT_OF_RANGE"],
    [[0.5, 1, 2], 4, "SIGNER_OUT_OF_RANGE"],
    [[0, 1, 2, 3], 7, "NO_QUORUM"],
    [[0, 1, 2, 3, 6], 7, "ok"],
  ];
  for (const [signers, n, expected] of cases) {
    const check = checkCommitQuorum(signers, n);
    t.equal(check.ok ? "ok" : check.code, expected, `${signers.join(",")} of ${n}`);
  }
});

interface V {
  readonly id: Uint8Array;
  readonly name: string;
}
const val = (id: number, name = `v${id}`): V => ({ id: new Uint8Array([id]), name });
const rules = { idOf: (v: V) => v.id, minimum: 3 };
const none: BlockValidatorUpdates<V> = { governance: null, equivocators: [] };
const four = [val(10), val(20), val(30), val(40)];

function names(result: ReturnType<typeof nextValidatorSet<V>>): string {
  return result.ok ? result.set.map((v) => v.name).join(",") : result.code;
}

t.test("validator-set updates decided in block H apply at H+2", async (t) => {
  t.equal(activationHeight(10n), 12n);
  const cases: Array<[string, readonly V[], BlockValidatorUpdates<V>, string]> = [
    ["no change", four, none, "v10,v20,v30,v40"],
    [
      "add, in id order",
      four,
      { ...none, governance: { kind: "add", validator: val(25) } },
      "v10,v20,v25,v30,v40",
    ],
    [
      "add at the end",
      four,
      { ...none, governance: { kind: "add", validator: val(50) } },
      "v10,v20,v30,v40,v50",
    ],
    [
      "add a member",
      four,
      { ...none, governance: { kind: "add", validator: val(20, "x") } },
      "ALREADY_MEMBER",
    ],
    ["remove", four, { ...none, governance: { kind: "remove", id: val(20).id } }, "v10,v30,v40"],
    [
      "remove a stranger",
      four,
      { ...none, governance: { kind: "remove", id: val(21).id } },
      "NOT_MEMBER",
    ],
    [
      "remove below the minimum",
      four.slice(1),
      { ...none, governance: { kind: "remove", id: val(20).id } },
      "BELOW_MINIMUM",
    ],
    [
      "replace (key rotation)",
      four,
      { ...none, governance: { kind: "replace", id: val(20).id, validator: val(45) } },
      "v10,v30,v40,v45",
    ],
    [
      "replace with a member",
      four,
      { ...none, governance: { kind: "replace", id: val(20).id, validator: val(30, "x") } },
      "ALREADY_MEMBER",
    ],
    [
      "replace a stranger",
      four,
      { ...none, governance: { kind: "replace", id: val(21).id, validator: val(45) } },
      "NOT_MEMBER",
    ],
    ["equivocators leave", four, { ...none, equivocators: [val(40).id, val(10).id] }, "v20,v30"],
    ["even below the minimum", four.slice(1), { ...none, equivocators: [val(20).id] }, "v30,v40"],
    [
      "an equivocator already gone",
      four,
      { ...none, equivocators: [val(11).id] },
      "v10,v20,v30,v40",
    ],
    [
      "governance cannot rotate an equivocator's key away",
      four,
      {
        governance: { kind: "replace", id: val(20).id, validator: val(45) },
        equivocators: [val(20).id],
      },
      "NOT_MEMBER",
    ],
    [
      "evidence and governance in one block",
      four,
      { governance: { kind: "add", validator: val(5) }, equivocators: [val(30).id] },
      "v5,v10,v20,v40",
    ],
    ["never empty", [val(1)], { ...none, equivocators: [val(1).id] }, "EMPTY_SET"],
    ["unsorted input", [val(20), val(10)], none, "NOT_CANONICAL"],
    ["repeated id", [val(10), val(10, "x")], none, "NOT_CANONICAL"],
  ];
  for (const [name, set, updates, expected] of cases) {
    t.equal(names(nextValidatorSet(set, updates, rules)), expected, name);
  }
});
