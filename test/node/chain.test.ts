import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import t from "tap";
import {
  type Block,
  computeEvidenceHash,
  computeLastCommitHash,
  computeTxRoot,
  decodeBlock,
  encodeBlock,
} from "../../lib/block.js";
import { toHex, u64be } from "../../lib/bytes.js";
import { decode } from "../../lib/codec.js";
import { duplicateVoteEvidence } from "../../lib/evidence.js";
import { encodeTx, signTx, txId } from "../../lib/tx.js";
import { proposerFor } from "../../lib/validator.js";
import { VerifyPool } from "../../lib/verify-pool.js";
import { signVote } from "../../lib/vote.js";
import { Chain, type CommittedBlock, checkTxsStateless, SignatureCache } from "../../node/chain.js";
import { ManualClock, offsetClock } from "../../node/clock.js";
import { buildGenesis, GenesisLoadError, loadGenesisFile } from "../../node/genesis.js";
import { Mempool } from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import type { WriteBatch } from "../../state/db.js";
import { Store } from "../../state/store.js";
import { checkTxStateless as vmCheckTxStateless } from "../../vm/check.js";
import { decodeReceipt } from "../../vm/receipt.js";
import { tables } from "../../vm/tables.js";
import { encodePayload, txTypeNumber } from "../../vm/tx/types.js";
import { actor, genesisJson, hash32, operatorOf, T0 } from "../vm/helpers.js";
import {
  CHAIN_ID,
  openChain,
  registration,
  secretOf,
  signCommit,
  signedTx,
  type TestChain,
} from "./chain-fixtures.js";

const op0 = operatorOf(0);

/** Builds the next block on `node` with these txs (through a mempool and the producer). */
async function propose(node: TestChain, txs: readonly Uint8Array[], round = 0) {
  const mempool = new Mempool(node.chain);
  for (const bytes of txs) {
    const added = await mempool.add(bytes);
    if (!added.ok) throw new Error(`tx refused: ${added.code} ${added.message}`);
  }
  await mempool.preverified();
  const height = node.chain.head().height + 1n;
  const set = node.chain.validatorSetAt(height);
  const proposer = proposerFor(set, height, round).address;
  const producer = new Producer(node.chain, mempool, { proposer });
  node.clock.advance(1000n);
  return producer.buildProposal(height, round, node.clock.now());
}

async function commitOn(node: TestChain, bytes: Uint8Array): Promise<CommittedBlock> {
  const verdict = await node.chain.validateBlock(bytes);
  if (!verdict.ok) throw new Error(`invalid: ${verdict.code} ${verdict.message}`);
  const { executed } = verdict;
  const set = node.chain.validatorSetAt(executed.height);
  return node.chain.commitBlock(executed, signCommit(set, executed.height, executed.hash));
}

/** Re-encodes a block after `mutate`, recomputing the body hashes so only the mutation differs. */
function tamper(bytes: Uint8Array, mutate: (block: Block) => Block): Uint8Array {
  const block = mutate(decodeBlock(bytes));
  return encodeBlock({
    ...block,
    header: {
      ...block.header,
      txRoot: computeTxRoot(block.txs),
      lastCommitHash: computeLastCommitHash(block.lastCommit),
      evidenceHash: computeEvidenceHash(block.evidence),
    },
  });
}

const genesis1 = buildGenesis(genesisJson([1]));
const genesis4 = buildGenesis(genesisJson([1, 1, 1, 1]));
const households = [actor(20), actor(21)] as const;

t.test("genesis: a hash everyone can compare, refused files named by field", async (t) => {
  t.equal(toHex(buildGenesis(genesisJson([1])).hash), toHex(genesis1.hash), "deterministic");
  t.not(toHex(genesis4.hash), toHex(genesis1.hash), "another validator set, another chain");
  t.equal(genesis4.validators.length, 4);
  t.equal(genesis1.header.height, 0n);
  const bad = { ...genesisJson([1]), chainId: "" };
  t.throws(() => buildGenesis(bad), GenesisLoadError);
  try {
    buildGenesis(bad);
  } catch (e) {
    t.equal((e as GenesisLoadError).code, "INVALID");
    t.equal((e as GenesisLoadError).path, "chainId");
  }
});

t.test("genesis is committed as height 0 and block 1 runs on it", async (t) => {
  const node = await openChain(t, genesis1);
  const head = node.chain.head();
  t.equal(head.height, 0n);
  t.equal(toHex(head.hash), toHex(genesis1.hash));
  t.equal(toHex(head.stateRoot), toHex(genesis1.stateRoot));
  t.equal(toHex(node.store.head()!.stateRoot), toHex(genesis1.stateRoot), "store root = tree root");
  t.same(
    node.chain.validatorSetAt(1n).map((v) => toHex(v.address)),
    genesis1.validators.map((v) => toHex(v.address)),
  );
});

t.test("produce, validate and commit a chain with real transactions", async (t) => {
  const leader = await openChain(t, genesis1);
  const follower = await openChain(t, genesis1);
  const committed: CommittedBlock[] = [];
  follower.chain.on("committed", (block) => committed.push(block));
  const [h0, h1] = households;

  const blocks = [
    [
      signedTx(op0, 0n, "registerHousehold", registration(h0, 1)),
      signedTx(op0, 1n, "registerHousehold", registration(h1, 2)),
    ],
    [
      signedTx(op0, 2n, "recordPayment", { household: h0.address, amount: 700n, reference: "p-1" }),
      signedTx(op0, 3n, "recordPayment", { household: h1.address, amount: 300n, reference: "p-2" }),
      // Refused by a state rule (a used reference): included, nonce used, receipt with its code.
      signedTx(op0, 4n, "recordPayment", { household: h1.address, amount: 5n, reference: "p-2" }),
    ],
    [],
    [signedTx(op0, 5n, "recordCharge", { household: h0.address, amount: 200n, reference: "c-1" })],
  ];
  for (const txs of blocks) {
    const proposal = await propose(leader, txs);
    follower.clock.set(leader.clock.now());
    const verdict = await follower.chain.validateBlock(proposal.bytes, { round: 0, fresh: true });
    t.ok(verdict.ok, "the follower accepts the proposal");
    if (!verdict.ok) return;
    t.ok(verdict.timely);
    t.equal(toHex(verdict.executed.hash), toHex(proposal.executed.hash));
    t.equal(
      follower.chain.executedOnHead(proposal.executed.hash),
      verdict.executed,
      "the validated execution is found by hash",
    );
    t.equal(leader.chain.executedOnHead(proposal.executed.hash), proposal.executed);
    t.equal(follower.chain.executedOnHead(hash32(9)), undefined, "an unknown hash finds nothing");
    const set = follower.chain.validatorSetAt(proposal.executed.height);
    const commit = signCommit(set, proposal.executed.height, proposal.executed.hash);
    await leader.chain.commitBlock(proposal.executed, commit);
    await follower.chain.commitBlock(verdict.executed, commit);
    t.equal(
      follower.chain.executedOnHead(proposal.executed.hash),
      undefined,
      "after the commit it is no longer on the head",
    );
    t.equal(toHex(follower.chain.head().stateRoot), toHex(leader.chain.head().stateRoot));
    t.equal(toHex(follower.store.head()!.stateRoot), toHex(proposal.block.header.stateRoot));
  }
  t.equal(follower.chain.head().height, 4n);
  t.equal(committed.length, 4);
  t.same(
    committed.map((c) => c.txIds.length),
    [2, 3, 0, 1],
  );
  const second = committed[1]!;
  t.same(
    second.receipts.map((r) => (r.outcome.kind === "ok" ? "ok" : r.outcome.value)),
    ["ok", "ok", "DUPLICATE_REFERENCE"],
  );
  // Stored receipts and tx locations are found by id.
  const refusedId = second.txIds[2]!;
  const stored = follower.store.getReceipt(refusedId);
  t.ok(stored);
  t.same(decodeReceipt(stored!).outcome, { kind: "rejected", value: "DUPLICATE_REFERENCE" });
  t.same(follower.store.getTxLocation(refusedId), { height: 2n, index: 2 });
  const account = follower.chain.state().get(tables.account.key(op0.address));
  t.ok(account);
  t.equal(
    decode(tables.account.schema, account!).nonce,
    6n,
    "the refused transaction used its nonce",
  );
  t.equal(follower.chain.commitAt(3n)?.height, 3n, "commits are stored per height");
});

t.test("invalid blocks are refused with their code and nothing is written", async (t) => {
  const leader = await openChain(t, genesis4);
  const follower = await openChain(t, genesis4);
  const [h0] = households;
  // Height 1 committed on both, so height 2 carries a last commit.
  const first = await propose(leader, [
    signedTx(op0, 0n, "registerHousehold", registration(h0, 1)),
  ]);
  const set1 = leader.chain.validatorSetAt(1n);
  const commit1 = signCommit(set1, 1n, first.executed.hash);
  await leader.chain.commitBlock(first.executed, commit1);
  await commitOn(follower, first.bytes);

  const good = await propose(leader, [
    signedTx(op0, 1n, "recordPayment", { household: h0.address, amount: 10n, reference: "r" }),
  ]);
  follower.clock.set(leader.clock.now());
  const headBefore = follower.store.head()!;

  const expect = async (name: string, bytes: Uint8Array, code: string, reason?: string) => {
    const verdict = await follower.chain.validateBlock(bytes, { round: 0 });
    t.equal(verdict.ok, false, `${name}: refused`);
    if (verdict.ok) return;
    t.equal(verdict.code, code, `${name}: ${code}`);
    if (reason !== undefined) t.equal(verdict.reason, reason, `${name}: ${reason}`);
    t.same(follower.store.head(), headBefore, `${name}: nothing written`);
  };

  await expect("garbage", new Uint8Array([1, 2, 3]), "MALFORMED_BLOCK");
  await expect(
    "bad tx signature",
    tamper(good.bytes, (b) => {
      const bad = b.txs[0]!.slice();
      bad[bad.length - 1]! ^= 1;
      return { ...b, txs: [bad] };
    }),
    "INVALID_TX",
    "BAD_SIGNATURE",
  );
  await expect(
    "wrong nonce",
    tamper(good.bytes, (b) => ({
      ...b,
      txs: [
        signedTx(op0, 7n, "recordPayment", { household: h0.address, amount: 10n, reference: "x" }),
      ],
    })),
    "INVALID_TX",
    "NONCE_TOO_HIGH",
  );
  await expect(
    "wrong chain id in a tx",
    tamper(good.bytes, (b) => {
      const body = {
        chainId: "other-chain",
        nonce: 1n,
        type: txTypeNumber("recordPayment"),
        payload: encodePayload("recordPayment", {
          household: h0.address,
          amount: 1n,
          reference: "y",
        }),
        signer: op0.publicKey,
      };
      return { ...b, txs: [encodeTx(signTx(body, op0.secretKey))] };
    }),
    "INVALID_TX",
    "WRONG_CHAIN_ID",
  );
  const header = (f: (h: Block["header"]) => Partial<Block["header"]>) =>
    tamper(good.bytes, (b) => ({ ...b, header: { ...b.header, ...f(b.header) } }));
  await expect(
    "wrong state root",
    header(() => ({ stateRoot: hash32(9) })),
    "WRONG_STATE_ROOT",
  );
  await expect(
    "wrong receipts root",
    header(() => ({ receiptsRoot: hash32(9) })),
    "WRONG_RECEIPTS_ROOT",
  );
  await expect(
    "wrong validatorsHash",
    header(() => ({ validatorsHash: hash32(9) })),
    "WRONG_VALIDATORS_HASH",
  );
  await expect(
    "wrong nextValidatorsHash",
    header(() => ({ nextValidatorsHash: hash32(9) })),
    "WRONG_NEXT_VALIDATORS_HASH",
  );
  await expect(
    "height ahead",
    header((h) => ({ height: h.height + 1n })),
    "LAST_COMMIT_MISMATCH",
  );
  await expect("wrong height", first.bytes, "WRONG_HEIGHT");
  await expect(
    "wrong parent, with a commit for it",
    tamper(good.bytes, (b) => ({
      ...b,
      header: { ...b.header, parentHash: hash32(9) },
      lastCommit: signCommit(set1, 1n, hash32(9)),
    })),
    "WRONG_PARENT",
  );
  await expect(
    "wrong version",
    header((h) => ({ version: h.version + 1 })),
    "WRONG_VERSION",
  );
  await expect(
    "time not after the parent",
    header(() => ({ time: leader.chain.head().header.time })),
    "TIME_NOT_AFTER_PARENT",
  );
  await expect(
    "proposer outside the set",
    header(() => ({ proposer: op0.address })),
    "UNKNOWN_PROPOSER",
  );
  const verdictRound1 = await follower.chain.validateBlock(good.bytes, { round: 1 });
  t.equal(
    verdictRound1.ok ? "ok" : verdictRound1.code,
    "WRONG_PROPOSER",
    "another round's proposer",
  );

  await expect(
    "last commit with a forged signature",
    tamper(good.bytes, (b) => {
      const commit = b.lastCommit!;
      const signatures = commit.signatures.map((s, i) =>
        i === 0 ? { ...s, signature: new Uint8Array(64).fill(1) } : s,
      );
      return { ...b, lastCommit: { ...commit, signatures } };
    }),
    "BAD_LAST_COMMIT",
    "BAD_SIGNATURE",
  );
  await expect(
    "last commit below quorum",
    tamper(good.bytes, (b) => ({
      ...b,
      lastCommit: signCommit(set1, 1n, first.executed.hash, { signers: 2 }),
    })),
    "BAD_LAST_COMMIT",
    "NOT_ENOUGH_SIGNATURES",
  );
  const v = set1[0]!;
  const vote = (blockHash: Uint8Array) =>
    signVote(
      { type: "prevote", chainId: CHAIN_ID, height: 1n, round: 0, blockHash, validator: v.address },
      secretOf(v.address),
    );
  const forged = duplicateVoteEvidence(vote(hash32(1)), vote(hash32(2)));
  const badEvidence = {
    ...forged,
    value: { ...forged.value, voteB: { ...forged.value.voteB, signature: new Uint8Array(64) } },
  };
  await expect(
    "evidence with a bad signature",
    tamper(good.bytes, (b) => ({ ...b, evidence: [badEvidence] })),
    "BAD_EVIDENCE",
    "BAD_SIGNATURE",
  );

  // The untampered block passes after all that, and a stale clock only marks it untimely.
  follower.clock.advance(60_000n);
  const verdict = await follower.chain.validateBlock(good.bytes, { round: 0, fresh: true });
  t.ok(verdict.ok);
  if (verdict.ok) t.equal(verdict.timely, false, "beyond ±drift: untimely, not invalid");
  const relaxed = await follower.chain.validateBlock(good.bytes, { round: 0 });
  t.ok(relaxed.ok && relaxed.timely, "not fresh: no clock rule");
});

t.test("the same block executed twice gives identical results", async (t) => {
  const leader = await openChain(t, genesis1);
  const a = await openChain(t, genesis1);
  const b = await openChain(t, genesis1);
  const [h0, h1] = households;
  const proposal = await propose(leader, [
    signedTx(op0, 0n, "registerHousehold", registration(h0, 1)),
    signedTx(op0, 1n, "registerHousehold", registration(h1, 2)),
    signedTx(op0, 2n, "recordPayment", { household: h0.address, amount: 9n, reference: "z" }),
  ]);
  const [va, vb] = [
    await a.chain.validateBlock(proposal.bytes),
    await b.chain.validateBlock(proposal.bytes),
  ];
  t.ok(va.ok && vb.ok);
  if (!va.ok || !vb.ok) return;
  const view = (e: typeof va.executed) => ({
    root: toHex(e.stateRoot),
    receipts: e.encodedReceipts.map(toHex),
    changes: e.changes.map(([k, v]) => `${toHex(k)}=${v === undefined ? "-" : toHex(v)}`),
    events: e.events.length,
  });
  t.same(view(va.executed), view(vb.executed));
  t.same(view(va.executed), view(proposal.executed), "the proposer's execution too");
});

t.test("commitBlock refuses a wrong commit and writes nothing", async (t) => {
  const node = await openChain(t, genesis4);
  const proposal = await propose(node, []);
  const set = node.chain.validatorSetAt(1n);
  await t.rejects(node.chain.commitBlock(proposal.executed, signCommit(set, 1n, hash32(5))), {
    name: "ChainError",
    code: "COMMIT_MISMATCH",
  });
  await t.rejects(
    node.chain.commitBlock(
      proposal.executed,
      signCommit(set, 1n, proposal.executed.hash, { signers: 2 }),
    ),
    { name: "ChainError", code: "BAD_COMMIT" },
  );
  t.equal(node.store.head()!.height, 0n, "still at genesis");
  await node.chain.commitBlock(
    proposal.executed,
    signCommit(set, 1n, proposal.executed.hash, { signers: 3 }),
  );
  t.equal(node.chain.head().height, 1n, "a quorum of 3 of 4 commits");
  await t.rejects(
    node.chain.commitBlock(proposal.executed, signCommit(set, 1n, proposal.executed.hash)),
    { name: "ChainError", code: "NOT_NEXT" },
  );
});

t.test("index hooks write in the commit batch", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-chain-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = await Store.open(dir);
  t.teardown(() => store.close());
  const key = (height: bigint) => new Uint8Array([0x40, ...u64be(height)]);
  const chain = await Chain.open(store, genesis1, {
    clock: new ManualClock(T0 + 1000n),
    indexHooks: [
      (executed, batch: WriteBatch) =>
        batch.put(key(executed.height), new Uint8Array([executed.txIds.length])),
    ],
  });
  const node: TestChain = { chain, store, clock: chain.clock as ManualClock, dir };
  const proposal = await propose(node, [
    signedTx(op0, 0n, "registerHousehold", registration(households[0], 1)),
  ]);
  await chain.commitBlock(
    proposal.executed,
    signCommit(chain.validatorSetAt(1n), 1n, proposal.executed.hash),
  );
  t.same(store.db.getSync(key(1n)), new Uint8Array([1]));
});

t.test("reopening the store continues from the head; another genesis is refused", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-chain-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let store = await Store.open(dir);
  let chain = await Chain.open(store, genesis1, { clock: new ManualClock(T0 + 1000n) });
  let node: TestChain = { chain, store, clock: chain.clock as ManualClock, dir };
  for (let i = 0; i < 2; i++) {
    const proposal = await propose(node, [
      signedTx(op0, BigInt(i), "registerHousehold", registration(households[i]!, i + 1)),
    ]);
    await chain.commitBlock(
      proposal.executed,
      signCommit(
        chain.validatorSetAt(proposal.executed.height),
        proposal.executed.height,
        proposal.executed.hash,
      ),
    );
  }
  const head = chain.head();
  await store.close();

  store = await Store.open(dir);
  await t.rejects(Chain.open(store, genesis4), { name: "ChainError", code: "GENESIS_MISMATCH" });
  chain = await Chain.open(store, genesis1, { clock: new ManualClock(T0 + 10_000n) });
  t.equal(chain.head().height, 2n);
  t.equal(toHex(chain.head().hash), toHex(head.hash));
  t.same(chain.head().header, head.header);
  node = { chain, store, clock: chain.clock as ManualClock, dir };
  const next = await propose(node, [
    signedTx(op0, 2n, "recordPayment", {
      household: households[0].address,
      amount: 1n,
      reference: "after",
    }),
  ]);
  await chain.commitBlock(
    next.executed,
    signCommit(chain.validatorSetAt(3n), 3n, next.executed.hash),
  );
  t.equal(chain.head().height, 3n);
  await store.close();
});

t.test("stateless checks verify in a batch and remember good signatures", async (t) => {
  const node = await openChain(t, genesis1);
  const good = signedTx(op0, 0n, "registerHousehold", registration(households[0], 1));
  const bad = good.slice();
  bad[bad.length - 1]! ^= 1;
  const results = await checkTxsStateless([good, bad, new Uint8Array([0xc1])], CHAIN_ID, {
    cache: node.chain.signatureCache,
  });
  t.same(
    results.map((r) => (r.ok ? "ok" : r.code)),
    ["ok", "BAD_SIGNATURE", "TX_MALFORMED"],
  );
  t.equal(node.chain.signatureCache.size, 1, "only the good signature is cached");
  t.ok(results[0]!.ok && node.chain.signatureCache.has(results[0]!.id));
});

t.test("the batched stateless checks answer what the single check answers", async (t) => {
  const txs = [0n, 1n, 2n].map((n) =>
    signedTx(op0, n, "registerHousehold", registration(actor(30 + Number(n)), Number(n) + 1)),
  );
  // Signed, but failing after the signature step: an unknown type, a payload that is no payload.
  for (const [type, payload] of [
    [9999, Uint8Array.of(0x90)],
    [txTypeNumber("registerHousehold"), Uint8Array.of(1, 2, 3)],
  ] as const) {
    const body = { chainId: CHAIN_ID, nonce: 5n, type, payload, signer: op0.publicKey };
    txs.push(encodeTx(signTx(body, op0.secretKey)));
  }
  // Byte flips anywhere: in the key, the signature, the payload, the framing; often several.
  const mutant = fc
    .record({
      tx: fc.constantFrom(...txs),
      flips: fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), {
        maxLength: 3,
      }),
    })
    .map(({ tx, flips }) => {
      const bytes = tx.slice();
      for (const { at, bit } of flips) bytes[at % bytes.length]! ^= 1 << bit;
      return bytes;
    });
  await fc.assert(
    fc.asyncProperty(fc.array(mutant, { minLength: 1, maxLength: 6 }), async (batch) => {
      const cache = new SignatureCache(100);
      for (const round of ["fresh", "cached"]) {
        const results = await checkTxsStateless(batch, CHAIN_ID, { cache });
        const single = batch.map((bytes) => vmCheckTxStateless(bytes, CHAIN_ID));
        t.same(
          results.map((r) => (r.ok ? toHex(r.id) : r.code)),
          single.map((r) => (r.ok ? toHex(r.tx.id) : r.code)),
          round,
        );
      }
    }),
    { numRuns: 200 },
  );
});

t.test("last commits verify with a single kept state version", async (t) => {
  const open = async () => {
    const dir = await mkdtemp(join(tmpdir(), "wattcap-chain-"));
    const store = await Store.open(dir, { keepVersions: 1 });
    t.teardown(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const chain = await Chain.open(store, genesis4, { clock: new ManualClock(T0 + 1000n) });
    return { chain, store, clock: chain.clock as ManualClock, dir };
  };
  const leader = await open();
  const follower = await open();
  for (let height = 1n; height <= 3n; height++) {
    const proposal = await propose(leader, []);
    const set = leader.chain.validatorSetAt(height);
    await leader.chain.commitBlock(
      proposal.executed,
      signCommit(set, height, proposal.executed.hash),
    );
    await commitOn(follower, proposal.bytes);
  }
  t.equal(follower.chain.head().height, 3n);
  t.throws(() => follower.chain.validatorSetAt(9n), { code: "UNKNOWN_HEIGHT" });
});

t.test("genesis files: read, parsed, or refused with a code", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-genesis-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const good = join(dir, "genesis.json");
  await writeFile(good, JSON.stringify(genesisJson([1])));
  t.equal(toHex((await loadGenesisFile(good)).hash), toHex(genesis1.hash));
  const notJson = join(dir, "broken.json");
  await writeFile(notJson, "{ nope");
  await t.rejects(loadGenesisFile(notJson), { name: "GenesisLoadError", code: "NOT_JSON" });
  await t.rejects(loadGenesisFile(join(dir, "missing.json")), { code: "UNREADABLE" });
});

t.test("a skewed clock makes fresh proposals untimely", async (t) => {
  const base = new ManualClock(T0);
  t.equal(offsetClock(base, -5n).now(), T0 - 5n);
  const node = await openChain(t, genesis1);
  const proposal = await propose(node, []);
  const dir = await mkdtemp(join(tmpdir(), "wattcap-chain-"));
  const store = await Store.open(dir);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const skewed = await Chain.open(store, genesis1, {
    clock: offsetClock(node.clock, 1001n),
    clockDriftMs: 1000n,
  });
  const verdict = await skewed.validateBlock(proposal.bytes, { round: 0, fresh: true });
  t.ok(verdict.ok && !verdict.timely, "1001 ms ahead with a drift of 1000 ms");
  const arrived = node.clock.now() + 1000n;
  const queued = await skewed.validateBlock(proposal.bytes, {
    round: 0,
    fresh: true,
    receivedAt: arrived,
  });
  t.ok(queued.ok && queued.timely, "judged at its arrival, 1000 ms after its time: timely");
  const late = await skewed.validateBlock(proposal.bytes, {
    round: 0,
    fresh: true,
    receivedAt: arrived + 1n,
  });
  t.ok(late.ok && !late.timely, "arrived 1001 ms after its time: untimely");
});

t.test("signatures can be verified on worker threads", async (t) => {
  const pool = new VerifyPool(1);
  t.teardown(() => pool.close());
  const leader = await openChain(t, genesis1);
  const proposal = await propose(leader, [
    signedTx(op0, 0n, "registerHousehold", registration(households[0], 1)),
    signedTx(op0, 1n, "registerHousehold", registration(households[1], 2)),
  ]);
  const dir = await mkdtemp(join(tmpdir(), "wattcap-chain-"));
  const store = await Store.open(dir);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const chain = await Chain.open(store, genesis1, { clock: leader.clock, pool });
  const verdict = await chain.validateBlock(proposal.bytes);
  t.ok(verdict.ok);
  t.equal(chain.signatureCache.size, 2, "both verified signatures are remembered");
  const checked = decodeBlock(proposal.bytes).txs.map((bytes) => chain.checkedTxs.get(txId(bytes)));
  t.ok(
    checked.every((tx) => tx !== undefined),
    "and both checked transactions, so the next block that carries them is not checked again",
  );
  // The first transaction now comes from that cache, the forged second does not: the refusal
  // still names the block's own index.
  const forged = tamper(proposal.bytes, (b) => {
    const bad = b.txs[1]!.slice();
    bad[bad.length - 1]! ^= 1;
    return { ...b, txs: [b.txs[0]!, bad] };
  });
  const refused = await chain.validateBlock(forged);
  t.same(refused.ok ? "ok" : [refused.code, refused.reason, refused.txIndex], [
    "INVALID_TX",
    "BAD_SIGNATURE",
    1,
  ]);
});
