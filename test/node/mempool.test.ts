import fc from "fast-check";
import t, { type Test } from "tap";
import { toHex } from "../../lib/bytes.js";
import { commitFromPrecommits } from "../../lib/commit.js";
import type { VerifyPool } from "../../lib/verify-pool.js";
import { signVote } from "../../lib/vote.js";
import { buildGenesis } from "../../node/genesis.js";
import {
  INLINE_TURN,
  Mempool,
  type MempoolOptions,
  type MempoolTx,
  TX_LIST_OVERHEAD,
} from "../../node/mempool.js";
import { Producer } from "../../node/producer.js";
import { type Actor, actor, genesisJson, operatorOf, validatorOf } from "../vm/helpers.js";
import { CHAIN_ID, openChain, registration, signedTx } from "./chain-fixtures.js";

const [op0, op1, op2] = [operatorOf(0), operatorOf(1), operatorOf(2)];
// Three utilities with one validator each: three operators who may send transactions.
const genesis = buildGenesis(genesisJson([1, 1, 1]));

/** A registerHousehold by `signer`: any nonce, a distinct household per (signer, nonce). */
function tx(signer: Actor, nonce: bigint, options: { chainId?: string; pad?: number } = {}) {
  const salt = Number(nonce) + 100 * signer.secretKey[31]!;
  return signedTx(
    signer,
    nonce,
    "registerHousehold",
    registration(
      actor(1000 + salt),
      Number(nonce) + 1000 * signer.secretKey[31]!,
      BigInt(options.pad ?? 1000),
    ),
    options.chainId,
  );
}

async function setup(t: Test, options: MempoolOptions = {}) {
  const { chain, clock } = await openChain(t, genesis);
  const mempool = new Mempool(chain, options);
  const admitted: MempoolTx[] = [];
  mempool.on("admitted", (entry) => admitted.push(entry));
  return { chain, mempool, clock, admitted };
}

const label = (entry: MempoolTx) =>
  `${[op0, op1, op2].findIndex((op) => toHex(op.address) === entry.sender)}#${entry.nonce}`;

async function addAll(mempool: Mempool, txs: readonly Uint8Array[]) {
  const codes: string[] = [];
  for (const bytes of txs) {
    const result = await mempool.add(bytes);
    codes.push(result.ok ? "ok" : result.code);
  }
  return codes;
}

t.test("admits a valid transaction once and announces it", async (t) => {
  const { mempool, admitted } = await setup(t);
  const bytes = tx(op0, 0n);
  const result = await mempool.add(bytes);
  t.ok(result.ok);
  t.equal(mempool.size, 1);
  t.equal(mempool.bytes, bytes.length);
  t.equal(admitted.length, 1, "announced for gossip");
  if (result.ok) t.ok(mempool.has(result.id));
  t.same(await addAll(mempool, [bytes]), ["ALREADY_KNOWN"], "deduplicated");
  t.equal(admitted.length, 1, "a duplicate is not announced again");
  t.ok((await mempool.add(tx(op0, 1n), "gossip")).ok);
  t.same(
    admitted.map((entry) => entry.origin),
    ["rpc", "gossip"],
    "each says where it came from: only the first is the node's to relay",
  );
});

t.test("a transaction failing stateless or stateful checks never enters", async (t) => {
  const { chain, mempool, admitted } = await setup(t);
  const bad = tx(op0, 0n);
  bad[bad.length - 1]! ^= 1;
  const stranger = actor(77);
  const codes = await addAll(mempool, [
    bad,
    tx(op0, 0n, { chainId: "other-chain" }),
    new Uint8Array([0x92, 0x01]),
    tx(stranger, 0n),
  ]);
  t.same(codes, ["BAD_SIGNATURE", "WRONG_CHAIN_ID", "TX_MALFORMED", "NOT_AUTHORISED"]);
  t.equal(mempool.size, 0);
  t.equal(admitted.length, 0);
  // A good signature is a fact about its id, whatever the state says: the stranger's is kept.
  // The forged one is not, and one of another chain is refused before its signature is checked.
  t.equal(chain.signatureCache.size, 1, "the one good signature verified was remembered");
});

t.test("per-sender nonce order: gaps are held until filled", async (t) => {
  const { mempool } = await setup(t);
  t.same(await addAll(mempool, [tx(op0, 2n), tx(op0, 0n)]), ["ok", "ok"]);
  t.same(mempool.reap(100, 1e9).map(label), ["0#0"], "nonce 2 waits behind the gap");
  t.same(await addAll(mempool, [tx(op0, 1n)]), ["ok"]);
  t.same(mempool.reap(100, 1e9).map(label), ["0#0", "0#1", "0#2"]);
  t.same(await addAll(mempool, [tx(op0, 1n, { pad: 5 })]), ["NONCE_TAKEN"]);
});

t.test("per-account bounds", async (t) => {
  const { mempool } = await setup(t, { maxTxsPerAccount: 3 });
  t.same(await addAll(mempool, [tx(op0, 3n)]), ["NONCE_TOO_FAR"]);
  t.same(await addAll(mempool, [tx(op0, 0n), tx(op0, 1n), tx(op0, 2n)]), ["ok", "ok", "ok"]);
  t.equal(mempool.size, 3);
  t.same(await addAll(mempool, [tx(op1, 0n)]), ["ok"], "other senders are not affected");
});

t.test(
  "reap: round-robin by sender in arrival order, nonce order within, within limits",
  async (t) => {
    const { mempool } = await setup(t);
    await addAll(mempool, [
      tx(op1, 0n),
      tx(op0, 0n),
      tx(op1, 1n),
      tx(op0, 1n),
      tx(op0, 2n),
      tx(op2, 0n),
    ]);
    const all = mempool.reap(100, 1e9);
    t.same(all.map(label), ["1#0", "0#0", "2#0", "1#1", "0#1", "0#2"]);
    t.same(mempool.reap(4, 1e9).map(label), ["1#0", "0#0", "2#0", "1#1"], "count limit");
    const size = all[0]!.bytes.length + TX_LIST_OVERHEAD;
    t.same(mempool.reap(100, 2 * size).map(label), ["1#0", "0#0"], "byte limit");
    t.same(mempool.reap(100, 1e9).map(label), all.map(label), "deterministic");
  },
);

t.test("global bounds and eviction", async (t) => {
  await t.test("a held transaction goes first", async (t) => {
    const { mempool } = await setup(t, { maxTxs: 3 });
    const removed: string[] = [];
    mempool.on("removed", (entry, reason) => removed.push(`${label(entry)}:${reason}`));
    t.same(await addAll(mempool, [tx(op0, 0n), tx(op1, 2n), tx(op1, 3n)]), ["ok", "ok", "ok"]);
    t.same(
      await addAll(mempool, [tx(op2, 5n)]),
      ["MEMPOOL_FULL"],
      "a held newcomer evicts nothing",
    );
    t.same(await addAll(mempool, [tx(op2, 0n)]), ["ok"]);
    t.same(removed, ["1#3:evicted"]);
    t.equal(mempool.size, 3);
  });
  await t.test(
    "then the largest sender's highest nonce, but only for a smaller sender",
    async (t) => {
      const { mempool } = await setup(t, { maxTxs: 3 });
      t.same(await addAll(mempool, [tx(op0, 0n), tx(op0, 1n), tx(op1, 0n)]), ["ok", "ok", "ok"]);
      t.same(await addAll(mempool, [tx(op2, 0n)]), ["ok"], "op0 holds 2 > 1");
      t.same(mempool.reap(100, 1e9).map(label), ["0#0", "1#0", "2#0"]);
      t.same(await addAll(mempool, [tx(op1, 1n)]), ["MEMPOOL_FULL"], "nobody holds more than 2");
    },
  );
  await t.test("the byte bound", async (t) => {
    const one = tx(op0, 0n).length;
    const { mempool } = await setup(t, { maxBytes: 2 * one + 10 });
    t.same(await addAll(mempool, [tx(op0, 0n), tx(op0, 1n), tx(op1, 0n)]), ["ok", "ok", "ok"]);
    t.ok(mempool.bytes <= 2 * one + 10);
    t.equal(mempool.size, 2);
  });
});

t.test("the pool never grows past its bounds", async (t) => {
  const { mempool } = await setup(t, { maxTxs: 5, maxTxsPerAccount: 4 });
  const pool = [op0, op1, op2].flatMap((op) => [0n, 1n, 2n, 3n, 5n].map((n) => tx(op, n)));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(pool.length - 1), { maxLength: 20 }), async (picks) => {
      for (const i of picks) {
        await mempool.add(pool[i]!);
        if (mempool.size > 5) return false;
      }
      const reaped = mempool.reap(100, 1e9);
      return reaped.length <= mempool.size;
    }),
    { numRuns: 30 },
  );
  t.ok(mempool.size <= 5);
});

t.test("expiry by age", async (t) => {
  const { mempool, clock } = await setup(t, { ttlMs: 10_000n });
  await addAll(mempool, [tx(op0, 0n)]);
  clock.advance(5_000n);
  await addAll(mempool, [tx(op1, 0n)]);
  clock.advance(5_000n);
  t.equal(mempool.expire(), 1, "the first has expired");
  t.same(mempool.reap(100, 1e9).map(label), ["1#0"]);
  clock.advance(5_000n);
  t.same(await addAll(mempool, [tx(op2, 0n)]), ["ok"], "adding expires too");
  t.same(mempool.reap(100, 1e9).map(label), ["2#0"]);
});

t.test("update after a commit removes included and used nonces and re-checks", async (t) => {
  const { chain, mempool, clock } = await setup(t);
  await addAll(mempool, [tx(op0, 0n), tx(op0, 1n), tx(op1, 0n)]);
  // Another pool's block uses op1's nonce 0 with a different transaction.
  const other = new Mempool(chain);
  await addAll(other, [tx(op0, 0n), tx(op1, 0n, { pad: 7 })]);
  const proposer = chain.validatorSetAt(1n)[1]!;
  const producer = new Producer(chain, other, { proposer: proposer.address });
  clock.advance(1000n);
  const proposal = await producer.buildProposal(1n, 0, clock.now());
  const set = chain.validatorSetAt(1n);
  const votes = set.map((v) =>
    signVote(
      {
        type: "precommit",
        chainId: CHAIN_ID,
        height: 1n,
        round: 0,
        blockHash: proposal.executed.hash,
        validator: v.address,
      },
      validatorOf(genesisIndex(v.address), 0).secretKey,
    ),
  );
  t.equal(votes.length, 3);
  const commit = commitFromPrecommits(set, 1n, 0, proposal.executed.hash, votes);
  const committed = await chain.commitBlock(proposal.executed, commit);
  t.same(mempool.reap(100, 1e9).map(label), ["0#1"], "reap reads nonces afresh");
  mempool.update(committed);
  t.equal(mempool.size, 1);
  t.same(mempool.reap(100, 1e9).map(label), ["0#1"]);
});

function genesisIndex(address: Uint8Array): number {
  for (let i = 0; i < 3; i++) if (toHex(validatorOf(i, 0).address) === toHex(address)) return i;
  throw new Error("not a validator");
}

t.test("a burst of admissions lets the event loop turn between turns of a few", async (t) => {
  const { mempool } = await setup(t);
  const order: string[] = [];
  const burst = Array.from({ length: 20 }, (_, i) => tx(op0, BigInt(i)));
  const adds = burst.map((bytes, i) =>
    mempool.add(bytes).then((result) => {
      order.push(result.ok ? `tx${i}` : result.code);
    }),
  );
  // I/O that arrives after the burst (a vote, say) waits for one turn, not for them all.
  setImmediate(() => order.push("timer"));
  await Promise.all(adds);
  t.equal(mempool.size, 20, "every transaction admitted");
  const at = order.indexOf("timer");
  t.ok(
    at >= 0 && at <= INLINE_TURN,
    `it ran before the second turn (position ${at} of ${order.length})`,
  );
  t.same(
    order.filter((x) => x !== "timer"),
    burst.map((_, i) => `tx${i}`),
    "in arrival order",
  );
});

t.test(
  "a turn whose batch check fails refuses its admissions and the next turn runs",
  async (t) => {
    let fail = true;
    const pool = {
      verifyBatch: async (jobs: readonly unknown[]) => {
        if (fail) throw new Error("worker pool closed");
        return jobs.map(() => true);
      },
    } as unknown as VerifyPool;
    const { mempool } = await setup(t, { pool });
    const first = [mempool.add(tx(op0, 0n)), mempool.add(tx(op1, 0n))];
    for (const admission of first) await t.rejects(admission, /worker pool closed/);
    fail = false;
    t.ok((await mempool.add(tx(op0, 0n))).ok, "admitted once the pool answers");
    t.equal(mempool.size, 1);
  },
);

t.test(
  "with a pool, later turns verify while one waits, and all admit in arrival order",
  async (t) => {
    const calls: { readonly jobs: number; readonly release: () => void }[] = [];
    const pool = {
      verifyBatch: (jobs: readonly unknown[]) =>
        new Promise<boolean[]>((resolve) => {
          calls.push({ jobs: jobs.length, release: () => resolve(jobs.map(() => true)) });
        }),
    } as unknown as VerifyPool;
    const { mempool, admitted } = await setup(t, { pool, maxTxsPerAccount: 512 });
    const senders = [op0, op1, op2];
    const burst = Array.from({ length: 600 }, (_, i) =>
      tx(senders[i % 3]!, BigInt(Math.floor(i / 3))),
    );
    const adds = burst.map((bytes) => mempool.add(bytes));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 100 && calls.length < 3; i++) await turn();
    t.same(
      calls.map((c) => c.jobs),
      [256, 256, 88],
      "three turns verify at once",
    );
    calls[2]!.release();
    calls[1]!.release();
    for (let i = 0; i < 5; i++) await turn();
    t.equal(admitted.length, 0, "the later turns wait for the first to admit");
    calls[0]!.release();
    t.ok((await Promise.all(adds)).every((r) => r.ok));
    t.same(
      admitted.map((entry) => toHex(entry.bytes)),
      burst.map((bytes) => toHex(bytes)),
      "in arrival order",
    );
  },
);
