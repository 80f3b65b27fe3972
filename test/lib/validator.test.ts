import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import t from "tap";
import { addressOf } from "../../lib/address.js";
import { compareBytes, toHex } from "../../lib/bytes.js";
import { decode, encode } from "../../lib/codec.js";
import { publicKeyOf } from "../../lib/keys.js";
import {
  checkValidatorSet,
  decodeValidatorSet,
  encodeValidatorSet,
  indexOfValidator,
  MAX_VALIDATORS,
  proposerFor,
  quorum,
  type Validator,
  ValidatorSchema,
  validatorSetHash,
} from "../../lib/validator.js";

const secretKey = (i: number) => new Uint8Array(32).fill(i);

function validator(i: number, utility = `utility-${i}`, operator = i): Validator {
  const publicKey = publicKeyOf(secretKey(i));
  return {
    address: addressOf(publicKey),
    publicKey,
    operator: new Uint8Array(20).fill(0x10 + operator),
    utility,
  };
}

const sorted = (vs: Validator[]) => [...vs].sort((a, b) => compareBytes(a.address, b.address));
const set4 = sorted([1, 2, 3, 4].map((i) => validator(i)));

t.test("golden vectors", (t) => {
  t.equal(
    toHex(encode(ValidatorSchema, validator(1))),
    "94c4141a642f0e3c3af545e7acbd38b07251b3990914f1c421031b84c5567b126440995d3ed5aaba0565d71e" +
      "1834604819ff9c17f5e9d5dd078fc4141111111111111111111111111111111111111111c4097574696c69" +
      "74792d31",
  );
  t.equal(set4.map((v) => v.utility).join(), "utility-1,utility-3,utility-2,utility-4");
  t.equal(
    toHex(validatorSetHash(set4)),
    "32761d769ba80b6e0565b61069e82f6f120b026bcc7f517027d56797d847b6ad",
  );
  t.end();
});

t.test("a set round-trips through its encoding", (t) => {
  const data = encodeValidatorSet(set4);
  t.strictSame(decodeValidatorSet(data), set4);
  t.throws(() => decodeValidatorSet(data.subarray(1)), { name: "CodecError" });
  const tooMany = Array.from({ length: MAX_VALIDATORS + 1 }, () => set4[0]!);
  t.throws(() => encodeValidatorSet(tooMany), { code: "SCHEMA" });
  const badKey = { ...set4[0]!, publicKey: new Uint8Array(32) };
  t.throws(() => encodeValidatorSet([badKey]), { code: "SCHEMA" }, "a key must be 33 bytes");
  t.end();
});

t.test("quorum is floor(2n/3) + 1", (t) => {
  const table: [number, number][] = [
    [1, 1],
    [2, 2],
    [3, 3],
    [4, 3],
    [5, 4],
    [6, 5],
    [7, 5],
    [10, 7],
    [100, 67],
    [128, 86],
  ];
  for (const [n, q] of table) t.equal(quorum(n), q, `quorum(${n})`);
  for (let n = 1; n <= MAX_VALIDATORS; n++) {
    const q = quorum(n);
    // More than two thirds, and the least such count: any two quorums share an honest member
    // when fewer than a third are faulty.
    if (!(3 * q > 2 * n && 3 * (q - 1) <= 2 * n)) t.fail(`quorum(${n}) = ${q}`);
  }
  t.pass("quorum is the least count above two thirds for every n");
  t.end();
});

t.test("proposerFor rotates round-robin over (height + round) mod n", (t) => {
  t.equal(proposerFor(set4, 0n, 0), set4[0]);
  t.equal(proposerFor(set4, 1n, 0), set4[1]);
  t.equal(proposerFor(set4, 1n, 1), set4[2], "the next round moves to the next validator");
  t.equal(proposerFor(set4, 5n, 2), set4[3]);
  t.equal(proposerFor(set4, (1n << 64n) - 1n, 0), set4[3], "heights beyond 2^53 are exact");
  const counts = new Map<Validator, number>();
  for (let h = 1n; h <= 40n; h++) {
    const p = proposerFor(set4, h, 0);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  t.strictSame([...counts.values()], [10, 10, 10, 10], "equal turns");
  t.throws(() => proposerFor([], 1n, 0), RangeError);
  t.end();
});

t.test("indexOfValidator finds members by address", (t) => {
  set4.forEach((v, i) => {
    t.equal(indexOfValidator(set4, v.address), i);
  });
  t.equal(indexOfValidator(set4, new Uint8Array(20)), -1);
  t.equal(indexOfValidator(set4, new Uint8Array(20).fill(0xff)), -1);
  t.equal(indexOfValidator([], set4[0]!.address), -1);
  t.end();
});

t.test("checkValidatorSet accepts sound sets", (t) => {
  t.strictSame(checkValidatorSet(set4), { ok: true });
  t.strictSame(checkValidatorSet([validator(1)]), { ok: true }, "a single-utility devnet");
  t.strictSame(checkValidatorSet(sorted([validator(1), validator(2)])), { ok: true });
  t.strictSame(checkValidatorSet(sorted([1, 2, 3].map((i) => validator(i)))), { ok: true });
  const seven = sorted([
    validator(1, "a", 1),
    validator(2, "a", 1),
    ...[3, 4, 5, 6, 7].map((i) => validator(i)),
  ]);
  t.strictSame(checkValidatorSet(seven), { ok: true }, "2 of 7 is under a third");
  t.end();
});

const codeOf = (set: Validator[]) => {
  const check = checkValidatorSet(set);
  return check.ok ? "OK" : check.code;
};

t.test("checkValidatorSet rejects each broken rule with its code", (t) => {
  t.equal(codeOf([]), "EMPTY_SET");
  t.equal(
    codeOf(Array.from({ length: MAX_VALIDATORS + 1 }, () => set4[0]!)),
    "TOO_MANY_VALIDATORS",
  );
  t.equal(codeOf([set4[1]!, set4[0]!, set4[2]!, set4[3]!]), "NOT_SORTED");
  t.equal(codeOf([set4[0]!, set4[0]!, set4[2]!, set4[3]!]), "DUPLICATE_VALIDATOR");
  const offCurve = new Uint8Array(33).fill(0xff);
  offCurve[0] = 0x02;
  t.equal(codeOf([{ ...set4[0]!, publicKey: offCurve }]), "BAD_PUBLIC_KEY");
  const stolen = { ...set4[0]!, publicKey: set4[1]!.publicKey };
  t.equal(codeOf([stolen]), "ADDRESS_MISMATCH", "an address must be its key's");
  t.equal(codeOf([validator(1, "")]), "BAD_UTILITY");
  t.equal(
    codeOf(sorted([validator(1, "a", 1), validator(2, "a", 2), validator(3), validator(4)])),
    "OPERATOR_MISMATCH",
    "one utility, two operators",
  );
  t.equal(
    codeOf(sorted([validator(1, "a", 9), validator(2, "b", 9), validator(3), validator(4)])),
    "OPERATOR_MISMATCH",
    "one operator, two utilities",
  );
  t.end();
});

t.test("no utility holds a third or more of the set", (t) => {
  const withShared = (n: number, shared: number) =>
    sorted(
      Array.from({ length: n }, (_, i) =>
        i < shared ? validator(i + 1, "big", 99) : validator(i + 1),
      ),
    );
  t.equal(codeOf(withShared(2, 2)), "UTILITY_CONCENTRATION", "2 validators need 2 utilities");
  t.equal(codeOf(withShared(3, 2)), "UTILITY_CONCENTRATION", "3 validators need 3 utilities");
  t.equal(codeOf(withShared(4, 2)), "UTILITY_CONCENTRATION", "2 of 4");
  t.equal(codeOf(withShared(6, 2)), "UTILITY_CONCENTRATION", "2 of 6 is exactly a third");
  t.equal(codeOf(withShared(7, 2)), "OK", "2 of 7");
  t.equal(codeOf(withShared(9, 3)), "UTILITY_CONCENTRATION", "3 of 9");
  t.equal(codeOf(withShared(10, 3)), "OK", "3 of 10");
  t.end();
});

t.test("decode(encode(v)) is v for arbitrary validators", (t) => {
  const arb = fc.record(
    {
      address: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      publicKey: fc.uint8Array({ minLength: 33, maxLength: 33 }),
      operator: fc.uint8Array({ minLength: 20, maxLength: 20 }),
      utility: fc.string({ unit: "binary", maxLength: 16 }),
    },
    { noNullPrototype: true },
  );
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(arb, (v) =>
        isDeepStrictEqual(decode(ValidatorSchema, encode(ValidatorSchema, v)), v),
      ),
      { numRuns: 200 },
    ),
  );
  t.end();
});
