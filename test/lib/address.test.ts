import fc from "fast-check";
import t from "tap";
import {
  ADDRESS_LENGTH,
  AddressError,
  addressOf,
  parseAddress,
  toChecksumAddress,
} from "../../lib/address.js";
import { fromHex, toHex } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";

// The examples published in EIP-55, including the ones whose checksum is all one case.
const EIP55 = [
  "0x52908400098527886E0F7030069857D2E4169EE7",
  "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
  "0xde709f2102306220921060314715629080e2fb77",
  "0x27b1fdb04752bbc536007a920d24acb045561c26",
  "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
  "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
  "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
  "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
];

// Well-known Ethereum addresses of the secret keys 1, 2 and 3.
const KEY_ADDRESSES: [bigint, string][] = [
  [1n, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"],
  [2n, "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"],
  [3n, "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"],
];

const scalar = (n: bigint): Uint8Array => fromHex(n.toString(16).padStart(64, "0"));

/** Flips the case of the first letter in the hex digits, which breaks an EIP-55 checksum. */
function flipFirstLetter(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[i]!;
  const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return address.slice(0, i) + flipped + address.slice(i + 1);
}

t.test("EIP-55 published vectors", async (t) => {
  for (const vector of EIP55) {
    const bytes = parseAddress(vector);
    t.equal(bytes.length, ADDRESS_LENGTH);
    t.equal(toHex(bytes), vector.slice(2).toLowerCase());
    t.equal(toChecksumAddress(bytes), vector);
  }
});

t.test("addresses of known secret keys", async (t) => {
  for (const [sk, expected] of KEY_ADDRESSES) {
    const address = addressOf(publicKeyOf(scalar(sk)));
    t.equal(toChecksumAddress(address), expected, `secret key ${sk}`);
  }
});

t.test("a memoised address is the computed one, and callers get their own copy", async (t) => {
  for (const [sk, expected] of KEY_ADDRESSES) {
    const publicKey = publicKeyOf(scalar(sk));
    const first = addressOf(publicKey);
    first.fill(0);
    const again = addressOf(publicKey.slice());
    t.equal(toChecksumAddress(again), expected, "a changed result does not reach the memo");
    t.not(addressOf(publicKey), again, "a fresh array each call");
  }
});

t.test("parseAddress accepts checksum-free single-case forms", async (t) => {
  const mixed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  const expected = toHex(parseAddress(mixed));
  t.equal(toHex(parseAddress(mixed.toLowerCase())), expected);
  t.equal(toHex(parseAddress(`0x${mixed.slice(2).toUpperCase()}`)), expected);
});

t.test("parseAddress errors", async (t) => {
  const good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  const cases: [string, string][] = [
    [flipFirstLetter(good), "BAD_CHECKSUM"],
    [good.slice(2), "BAD_PREFIX"],
    [`0X${good.slice(2)}`, "BAD_PREFIX"],
    [good.slice(0, -1), "BAD_LENGTH"],
    [`${good}a`, "BAD_LENGTH"],
    ["0x", "BAD_LENGTH"],
    [`${good.slice(0, -1)}g`, "BAD_HEX"],
    [`${good.slice(0, -1)} `, "BAD_HEX"],
  ];
  for (const [text, code] of cases) {
    t.throws(() => parseAddress(text), { name: "AddressError", code }, `${text} -> ${code}`);
  }
  t.throws(() => parseAddress(42 as unknown as string), { code: "BAD_PREFIX" });
  t.match(
    (() => {
      try {
        parseAddress(flipFirstLetter(good));
      } catch (e) {
        return (e as AddressError).message;
      }
    })(),
    /checksum/,
  );
});

t.test("toChecksumAddress and addressOf reject bad input", async (t) => {
  t.throws(() => toChecksumAddress(new Uint8Array(19)), { code: "BAD_LENGTH" });
  t.throws(() => toChecksumAddress(new Uint8Array(21)), { code: "BAD_LENGTH" });
  t.throws(() => addressOf(new Uint8Array(33)), { code: "BAD_PUBLIC_KEY" });
  t.throws(() => addressOf(new Uint8Array(65)), { code: "BAD_PUBLIC_KEY" });
});

t.test("checksum round trip; any single case flip is caught", async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
      const text = toChecksumAddress(bytes);
      if (toHex(parseAddress(text)) !== toHex(bytes)) return false;
      if (toHex(parseAddress(text.toLowerCase())) !== toHex(bytes)) return false;
      const letters = text.slice(2).replace(/[0-9]/g, "");
      // Only mixed-case results are checksummed; flipping a letter that leaves a single-case
      // string is the documented, unchecked form.
      const flipped = flipFirstLetter(text);
      const stillMixed = /[a-f]/.test(flipped.slice(2)) && /[A-F]/.test(flipped.slice(2));
      if (letters.length === 0 || !stillMixed) return true;
      try {
        parseAddress(flipped);
        return false;
      } catch (e) {
        return e instanceof AddressError && e.code === "BAD_CHECKSUM";
      }
    }),
    { numRuns: 300 },
  );
  t.pass("property held");
});

t.test("remembered checksums: the same form on every call, past the memo's capacity", (t) => {
  // More distinct addresses than the memo holds (8,192), each asked for twice, far apart.
  const addresses = Array.from({ length: 9000 }, (_, i) => {
    const a = new Uint8Array(20);
    new DataView(a.buffer).setUint32(16, i * 2654435761);
    a[0] = i % 251;
    return a;
  });
  const first = addresses.map(toChecksumAddress);
  const second = addresses.map(toChecksumAddress);
  t.same(second, first);
  for (const [i, text] of first.entries()) {
    if (i % 500 !== 0) continue;
    t.same(parseAddress(text), addresses[i], `${text} parses back`);
    t.equal(text.toLowerCase(), `0x${toHex(addresses[i]!)}`);
  }
  t.end();
});
