// The light client: proofs verify against a header signed by >2/3 of a trusted set, and every
// way an answer can lie — value, proof, header, signatures, validator set — is a typed failure.
import t from "tap";
import { addressOf, toChecksumAddress } from "../../lib/address.js";
import { type Header, headerHash } from "../../lib/block.js";
import { compareBytes, to0x, utf8 } from "../../lib/bytes.js";
import { encode } from "../../lib/codec.js";
import { type Commit, commitFromPrecommits } from "../../lib/commit.js";
import { publicKeyOf } from "../../lib/keys.js";
import { type Validator, validatorSetHash } from "../../lib/validator.js";
import { signVote } from "../../lib/vote.js";
import { WattcapClient } from "../../rpc/client/client.js";
import { genesisTrust, type HeaderSource, LightClient } from "../../rpc/client/light-client.js";
import { provenAccount, provenCredits } from "../../rpc/client/proven.js";
import { toJson } from "../../rpc/json.js";
import type { CommitJson, HeaderJson, ResultOf, ValidatorJson } from "../../rpc/methods.js";
import { MemoryNodeStore } from "../../state/smt/memory-store.js";
import { JellyfishTree } from "../../state/smt/tree.js";
import { keys } from "../../vm/keys.js";
import { AccountSchema } from "../../vm/model/account.js";

const CHAIN = "wattcap-light";
const secrets = new Map<string, Uint8Array>();

function validatorSet(seeds: number[]): Validator[] {
  return seeds
    .map((seed, i) => {
      const secretKey = new Uint8Array(32).fill(seed);
      const publicKey = publicKeyOf(secretKey);
      const address = addressOf(publicKey);
      secrets.set(to0x(address), secretKey);
      return {
        address,
        publicKey,
        operator: new Uint8Array(20).fill(seed),
        utility: `u${seed}-${i}`,
      };
    })
    .sort((a, b) => compareBytes(a.address, b.address));
}

const setA = validatorSet([1, 2, 3, 4]);
const setB = validatorSet([5, 6, 7, 8]);
const setC = validatorSet([9, 10, 11, 12]);

function header(
  height: bigint,
  set: Validator[],
  next: Validator[],
  stateRoot: Uint8Array,
): Header {
  const zero = new Uint8Array(32);
  return {
    version: 1,
    chainId: CHAIN,
    height,
    time: 1_700_000_000_000n + height * 1000n,
    parentHash: zero,
    proposer: set[0]!.address,
    txRoot: zero,
    stateRoot,
    receiptsRoot: zero,
    validatorsHash: validatorSetHash(set),
    nextValidatorsHash: validatorSetHash(next),
    lastCommitHash: zero,
    evidenceHash: zero,
  };
}

function commitFor(h: Header, set: Validator[], signers = set.length): Commit {
  const blockHash = headerHash(h);
  const votes = set.slice(0, signers).map((v) =>
    signVote(
      {
        type: "precommit",
        chainId: CHAIN,
        height: h.height,
        round: 0,
        blockHash,
        validator: v.address,
      },
      secrets.get(to0x(v.address))!,
    ),
  );
  return commitFromPrecommits(set, h.height, 0, blockHash, votes);
}

// One state: an account with a balance; a key that is absent.
const alice = new Uint8Array(20).fill(0xaa);
const bob = new Uint8Array(20).fill(0xbb);
const store = new MemoryNodeStore();
const tree = new JellyfishTree(store);
const aliceAccount = { nonce: 3n, balance: 1_234_567n };
store.apply(
  tree.update(undefined, 1n, [
    [keys.account(alice), encode(AccountSchema, aliceAccount)],
    [utf8("other"), utf8("not an account")],
  ]),
);
const root = tree.rootHash(1n);

type Answer = ResultOf<"state_getProof">;

function answer(key: Uint8Array, h: Header, commit: Commit | undefined, set: Validator[]): Answer {
  const proved = tree.prove(1n, key);
  return {
    key: to0x(key),
    value: tree.get(1n, key) === undefined ? null : to0x(tree.get(1n, key)!),
    height: h.height.toString(),
    proof: toJson({ leaf: proved.leaf, siblings: proved.siblings }) as Answer["proof"],
    header: toJson(h) as unknown as HeaderJson,
    commit: commit === undefined ? null : (toJson(commit) as unknown as CommitJson),
    validators: toJson(set) as unknown as ValidatorJson[],
  };
}

const h5 = header(5n, setA, setA, root);

t.test("a valid proof under the trusted set verifies and decodes", async (t) => {
  const light = new LightClient(genesisTrust(CHAIN, setA));
  const result = await light.verifyState(
    answer(keys.account(alice), h5, commitFor(h5, setA), setA),
    keys.account(alice),
    AccountSchema,
  );
  t.ok(result.verified);
  if (!result.verified) return;
  t.same(result.value, aliceAccount);
  t.equal(result.height, 5n);
  t.equal(result.signers, 4);
  t.equal(result.setSize, 4);
  t.equal(light.trustedHeight, 5n, "the believed header becomes the latest trusted");

  const absent = await light.verifyState(
    answer(keys.account(bob), h5, commitFor(h5, setA, 3), setA),
    keys.account(bob),
    AccountSchema,
  );
  t.ok(absent.verified, "3 of 4 is more than 2/3");
  if (absent.verified) t.equal(absent.value, undefined, "an absent key proves absent");
});

t.test("tampered values, proofs and siblings fail BAD_PROOF", async (t) => {
  const key = keys.account(alice);
  const good = answer(key, h5, commitFor(h5, setA), setA);
  const cases: [string, Answer][] = [
    [
      "a changed value",
      { ...good, value: to0x(encode(AccountSchema, { nonce: 3n, balance: 9_999_999n })) },
    ],
    ["a value claimed absent", { ...good, value: null }],
    [
      "a changed sibling",
      {
        ...good,
        proof: {
          ...good.proof,
          siblings: (good.proof.siblings as string[]).map((s, i) =>
            i === 0 ? `0x${"11".repeat(32)}` : s,
          ),
        },
      },
    ],
    [
      "a dropped sibling",
      { ...good, proof: { ...good.proof, siblings: (good.proof.siblings as string[]).slice(1) } },
    ],
    [
      "a changed leaf hash",
      {
        ...good,
        proof: {
          ...good.proof,
          leaf: {
            keyHash: (good.proof.leaf as { keyHash: string }).keyHash,
            valueHash: `0x${"22".repeat(32)}`,
          },
        },
      },
    ],
    ["a proof for another key", answer(keys.account(bob), h5, commitFor(h5, setA), setA)],
    ["a malformed proof", { ...good, proof: { siblings: "nope" } }],
  ];
  for (const [name, bad] of cases) {
    const light = new LightClient(genesisTrust(CHAIN, setA));
    const result = await light.verifyState(bad, key, AccountSchema);
    t.equal(result.verified ? "verified" : result.code, "BAD_PROOF", name);
  }
});

t.test("a proven value that is not the expected record fails VALUE_MISMATCH", async (t) => {
  const light = new LightClient(genesisTrust(CHAIN, setA));
  const result = await light.verifyState(
    answer(utf8("other"), h5, commitFor(h5, setA), setA),
    utf8("other"),
    AccountSchema,
  );
  t.equal(result.verified ? "verified" : result.code, "VALUE_MISMATCH");
});

t.test(
  "a header signed by a set the client does not trust fails UNTRUSTED_VALIDATOR_SET",
  async (t) => {
    const forged = header(5n, setC, setC, root);
    const light = new LightClient(genesisTrust(CHAIN, setA));
    const result = await light.verifyState(
      answer(keys.account(alice), forged, commitFor(forged, setC), setC),
      keys.account(alice),
      AccountSchema,
    );
    t.equal(result.verified ? "verified" : result.code, "UNTRUSTED_VALIDATOR_SET");
    t.equal(light.trustedHeight, 0n, "nothing was believed");
  },
);

t.test(
  "too few signatures, a missing commit or a commit for another header fail BAD_COMMIT",
  async (t) => {
    const key = keys.account(alice);
    const other = header(5n, setA, setA, new Uint8Array(32).fill(7));
    const cases: [string, Answer][] = [
      ["2 of 4 signatures", answer(key, h5, commitFor(h5, setA, 2), setA)],
      ["no commit", answer(key, h5, undefined, setA)],
      ["a commit for another header", answer(key, h5, commitFor(other, setA), setA)],
      [
        "a header whose state root was changed",
        {
          ...answer(key, h5, commitFor(h5, setA), setA),
          header: toJson(other) as unknown as HeaderJson,
        },
      ],
    ];
    for (const [name, bad] of cases) {
      const light = new LightClient(genesisTrust(CHAIN, setA));
      const result = await light.verifyState(bad, key, AccountSchema);
      t.equal(result.verified ? "verified" : result.code, "BAD_COMMIT", name);
    }
    const light = new LightClient({ chainId: "another-chain", height: 0n, validators: setA });
    const result = await light.verifyState(
      answer(key, h5, commitFor(h5, setA), setA),
      key,
      AccountSchema,
    );
    t.equal(result.verified ? "verified" : result.code, "BAD_COMMIT", "a header of another chain");
  },
);

/** Heights 1..20: set A signs 1..8, block 8 names B, B signs 9..20. Counts requests. */
function chainSource(options: { forkAt?: bigint; lieAboutSet?: boolean } = {}) {
  const headers = new Map<bigint, { header: Header; commit: Commit }>();
  for (let h = 1n; h <= 20n; h++) {
    let signer = h <= 8n ? setA : setB;
    const next = h < 8n ? setA : setB;
    if (options.forkAt !== undefined && h >= options.forkAt) signer = setC;
    const hd = header(
      h,
      signer,
      options.forkAt !== undefined && h >= options.forkAt ? setC : next,
      root,
    );
    headers.set(h, { header: hd, commit: commitFor(hd, signer) });
  }
  const requests: string[] = [];
  const source: HeaderSource = {
    signedHeader: async (height) => {
      requests.push(`header ${height}`);
      const found = headers.get(height);
      if (!found) throw new Error(`no block ${height}`);
      return found;
    },
    validatorSet: async (height) => {
      requests.push(`set ${height}`);
      if (options.lieAboutSet) return setC;
      return height <= 8n ? setA : setB;
    },
  };
  return { headers, source, requests };
}

t.test("the client follows nextValidatorsHash across a set change, by bisection", async (t) => {
  const { headers, source, requests } = chainSource();
  const light = new LightClient(genesisTrust(CHAIN, setA), source);
  const h17 = headers.get(17n)!;
  const result = await light.verifyState(
    answer(keys.account(alice), h17.header, h17.commit, setB),
    keys.account(alice),
    AccountSchema,
  );
  t.ok(result.verified, result.verified ? "" : result.message);
  t.equal(light.trustedHeight, 17n);
  t.ok(light.isTrustedSet(validatorSetHash(setB)));
  t.ok(requests.length < 17, `bisection, not a walk: ${requests.length} requests`);
  t.same(
    requests.filter((r) => r.startsWith("set")),
    ["set 9"],
    "the new set is read once, where it starts",
  );

  // A set the chain never handed over stays untrusted even with the source to follow.
  const forged = header(18n, setC, setC, root);
  const bad = await light.verifyState(
    answer(keys.account(alice), forged, commitFor(forged, setC), setC),
    keys.account(alice),
    AccountSchema,
  );
  t.equal(bad.verified ? "verified" : bad.code, "UNTRUSTED_VALIDATOR_SET");
});

t.test("following refuses a set that the previous header did not name", async (t) => {
  const forked = chainSource({ forkAt: 9n });
  const light = new LightClient(genesisTrust(CHAIN, setA), forked.source);
  const h12 = forked.headers.get(12n)!;
  const result = await light.verifyState(
    answer(keys.account(alice), h12.header, h12.commit, setC),
    keys.account(alice),
    AccountSchema,
  );
  t.equal(result.verified ? "verified" : result.code, "UNTRUSTED_VALIDATOR_SET");

  const lying = chainSource({ lieAboutSet: true });
  const light2 = new LightClient(genesisTrust(CHAIN, setA), lying.source);
  const h10 = lying.headers.get(10n)!;
  const lied = await light2.verifyState(
    answer(keys.account(alice), h10.header, h10.commit, setB),
    keys.account(alice),
    AccountSchema,
  );
  t.equal(
    lied.verified ? "verified" : lied.code,
    "UNTRUSTED_VALIDATOR_SET",
    "a served set must match the hash",
  );
});

t.test("a checkpoint without nextValidatorsHash reads its own header first", async (t) => {
  const { headers, source, requests } = chainSource();
  const light = new LightClient({ chainId: CHAIN, height: 6n, validators: setA }, source);
  const h12 = headers.get(12n)!;
  const result = await light.verifyState(
    answer(keys.account(alice), h12.header, h12.commit, setB),
    keys.account(alice),
    AccountSchema,
  );
  t.ok(result.verified, result.verified ? "" : result.message);
  t.equal(requests[0], "header 6");
});

t.test("proven reads compare the node's own answer with the proof", async (t) => {
  const fetch = async (_url: string, init: { body: string }) => {
    const { id, params } = JSON.parse(init.body);
    const key = Buffer.from((params.key as string).slice(2), "hex");
    const result = answer(new Uint8Array(key), h5, commitFor(h5, setA), setA);
    return {
      ok: true,
      status: 200,
      text: async () => JSON.stringify({ jsonrpc: "2.0", id, result }),
    };
  };
  const client = new WattcapClient({ url: "http://stub/", fetch });
  const light = new LightClient(genesisTrust(CHAIN, setA));
  const claimed = (balance: string) => ({ balance });
  const ok = await provenAccount(client, light, toChecksumAddress(alice), claimed("1234567"));
  t.ok(ok.verified);
  if (ok.verified) t.equal(ok.value?.balance, 1_234_567n);
  const lie = await provenAccount(client, light, toChecksumAddress(alice), claimed("9000000"));
  t.equal(lie.verified ? "verified" : lie.code, "VALUE_MISMATCH");
  const none = await provenAccount(client, light, toChecksumAddress(bob));
  t.ok(none.verified);
  if (none.verified)
    t.same(none.value, { nonce: 0n, balance: 0n }, "an absent account proves as zero");
  const credits = await provenCredits(client, light, toChecksumAddress(alice), 2n, {
    amount: "5",
    locked: "0",
  });
  t.equal(
    credits.verified ? "verified" : credits.code,
    "VALUE_MISMATCH",
    "claimed credits the proof shows absent",
  );
  const noCredits = await provenCredits(client, light, toChecksumAddress(alice), 2n, {
    amount: "0",
    locked: "0",
  });
  t.ok(noCredits.verified);
});
