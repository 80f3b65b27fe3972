// State commitment: our Jellyfish Merkle tree committed through the store, against
// @ethereumjs/mpt (Ethereum's Merkle Patricia trie) over the same LevelDB and the same workload.
// Both hash with sha256 through OpenSSL, so the comparison is of tree and storage design, not of
// hash functions.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createMerkleProof,
  createMPT,
  type MerklePatriciaTrie,
  verifyMerkleProof,
} from "@ethereumjs/mpt";
import { type BatchDBOp, type DB, ValueEncoding } from "@ethereumjs/util";
import { ClassicLevel } from "classic-level";
import { compareBytes, concatBytes, fromHex, u64be } from "../lib/bytes.js";
import { sha256 } from "../lib/hash.js";
import { verifyProof } from "../state/smt/proof.js";
import { Store } from "../state/store.js";
import { type BenchGroup, type Measurement, measure } from "./harness.js";

const PRELOAD = 100_000;

/** Deterministic keys and values shaped like the vm's (a prefix, an address, a period). */
function key(i: number): Uint8Array {
  return concatBytes(new Uint8Array([0x05]), sha256(u64be(BigInt(i))).subarray(0, 20), u64be(7n));
}
function value(i: number, round: number): Uint8Array {
  return sha256(concatBytes(u64be(BigInt(i)), u64be(BigInt(round)))).subarray(0, 24);
}

/** A workload step: `size` updates, half to existing keys and half to new ones. */
class Workload {
  private nextNew = PRELOAD;
  private round = 0;
  step(size: number): Array<[Uint8Array, Uint8Array]> {
    this.round++;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    for (let j = 0; j < size; j++) {
      const i = j % 2 === 0 ? (this.round * 7919 + j * 104729) % PRELOAD : this.nextNew++;
      out.push([key(i), value(i, this.round)]);
    }
    return out;
  }
}

const ZERO32 = new Uint8Array(32);

async function commitToStore(
  store: Store,
  updates: Array<[Uint8Array, Uint8Array]>,
): Promise<void> {
  const height = (store.head()?.height ?? 0n) + 1n;
  // The store takes changes sorted by key, as StateOverlay.changes() gives them.
  const changes = updates.map(([k, v]) => [k, v] as const).sort((a, b) => compareBytes(a[0], b[0]));
  const { treeBatch } = store.computeStateRoot(changes, height);
  await store.commitBlock({
    height,
    blockHash: sha256(u64be(height)),
    block: ZERO32,
    commit: ZERO32,
    txIds: [],
    receipts: [],
    changes,
    treeBatch,
  });
}

/** The @ethereumjs/util DB interface over classic-level, with byte values. */
function levelAdapter(db: ClassicLevel<Uint8Array, Uint8Array>): DB<string, string | Uint8Array> {
  const k = (s: string) => fromHex(s);
  const adapter: DB<string, string | Uint8Array> = {
    get: async (key) => {
      const v = db.getSync(k(key));
      return v === undefined ? undefined : v;
    },
    put: (key, val) => db.put(k(key), val as Uint8Array),
    del: (key) => db.del(k(key)),
    batch: (ops: BatchDBOp<string, string | Uint8Array>[]) =>
      db.batch(
        ops.map((op) =>
          op.type === "put"
            ? { type: "put" as const, key: k(op.key), value: op.value as Uint8Array }
            : { type: "del" as const, key: k(op.key) },
        ),
        { sync: true },
      ),
    shallowCopy: () => adapter,
    open: () => db.open(),
  };
  return adapter;
}

async function commitToMpt(trie: MerklePatriciaTrie, updates: Array<[Uint8Array, Uint8Array]>) {
  trie.checkpoint();
  for (const [k, v] of updates) await trie.put(k, v);
  await trie.commit();
  await trie.persistRoot();
}

export async function state(): Promise<BenchGroup> {
  return {
    title: "State commitment (Jellyfish Merkle tree vs Merkle Patricia trie, LevelDB)",
    description:
      `Both trees are preloaded with ${PRELOAD.toLocaleString("en-US")} keys, then take blocks of ` +
      "updates (half to existing keys, half new), each written to LevelDB in one fsynced batch. " +
      "Ours goes through the whole store commit path (flat key space, tree nodes, stale index, " +
      "head record); the trie writes only its nodes. Proofs are of random existing keys.",
    targets: [
      {
        description: "at least 20,000 key updates/s committed in batches of 1,000 and 10,000",
        check: (r) =>
          (r.get("smt.commit.1k")?.rate ?? 0) >= 20_000 &&
          (r.get("smt.commit.10k")?.rate ?? 0) >= 20_000,
      },
      {
        description: "at least 2× the Patricia trie's rate in batches of 1,000 and 10,000",
        check: (r) =>
          (r.get("smt.commit.1k")?.rate ?? 0) >= 2 * (r.get("mpt.commit.1k")?.rate ?? Infinity) &&
          (r.get("smt.commit.10k")?.rate ?? 0) >= 2 * (r.get("mpt.commit.10k")?.rate ?? Infinity),
      },
    ],
    async run(): Promise<Measurement[]> {
      const dir = mkdtempSync(join(tmpdir(), "wattcap-bench-state-"));
      const out: Measurement[] = [];
      try {
        const store = await Store.open(join(dir, "smt"), { keepVersions: 16 });
        const level = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, "mpt"), {
          keyEncoding: "view",
          valueEncoding: "view",
        });
        await level.open();
        const trie = await createMPT({
          db: levelAdapter(level),
          valueEncoding: ValueEncoding.Bytes,
          useKeyHashing: true,
          useKeyHashingFunction: sha256,
          useRootPersistence: true,
        });
        const preload: Array<[Uint8Array, Uint8Array]> = [];
        for (let i = 0; i < PRELOAD; i++) preload.push([key(i), value(i, 0)]);
        for (let i = 0; i < PRELOAD; i += 10_000) {
          await commitToStore(store, preload.slice(i, i + 10_000));
          await commitToMpt(trie, preload.slice(i, i + 10_000));
        }
        const ours = new Workload();
        const theirs = new Workload();
        for (const size of [1_000, 10_000]) {
          const tag = size === 1_000 ? "1k" : "10k";
          out.push(
            await measure(
              `mpt.commit.${tag}`,
              `@ethereumjs/mpt, blocks of ${size.toLocaleString("en-US")}`,
              async () => {
                await commitToMpt(trie, theirs.step(size));
                return size;
              },
              { unit: "updates/s", runMs: 2000 },
            ),
          );
          out.push(
            await measure(
              `smt.commit.${tag}`,
              `Wattcap store, blocks of ${size.toLocaleString("en-US")}`,
              async () => {
                await commitToStore(store, ours.step(size));
                return size;
              },
              { unit: "updates/s", baseline: `mpt.commit.${tag}`, runMs: 2000 },
            ),
          );
        }

        let p = 0;
        const proofKey = () => key((p++ * 7919) % PRELOAD);
        out.push(
          await measure(
            "mpt.prove",
            "@ethereumjs/mpt createMerkleProof",
            async () => {
              await createMerkleProof(trie, proofKey());
              return 1;
            },
            { unit: "proofs/s" },
          ),
        );
        const version = store.head()!.height;
        out.push(
          await measure(
            "smt.prove",
            "Wattcap proveState",
            () => {
              store.proveState(version, proofKey());
              return 1;
            },
            { unit: "proofs/s", baseline: "mpt.prove" },
          ),
        );
        const mptProofs: Array<[Uint8Array, Uint8Array[]]> = [];
        const ourProofs: Array<[Uint8Array, Uint8Array, ReturnType<Store["proveState"]>]> = [];
        for (let i = 0; i < 256; i++) {
          const k = proofKey();
          mptProofs.push([k, await createMerkleProof(trie, k)]);
          ourProofs.push([k, store.readStateAt(version, k)!, store.proveState(version, k)]);
        }
        const root = store.head()!.stateRoot;
        let v = 0;
        out.push(
          await measure(
            "mpt.verify",
            "@ethereumjs/mpt verifyMerkleProof",
            async () => {
              const [k, proof] = mptProofs[v++ % mptProofs.length]!;
              await verifyMerkleProof(k, proof, {
                useKeyHashing: true,
                useKeyHashingFunction: sha256,
              });
              return 1;
            },
            { unit: "proofs/s" },
          ),
        );
        out.push(
          await measure(
            "smt.verify",
            "Wattcap verifyProof",
            () => {
              const [k, val, proof] = ourProofs[v++ % ourProofs.length]!;
              if (!verifyProof(root, k, val, proof)) throw new Error("a valid proof failed");
              return 1;
            },
            { unit: "proofs/s", baseline: "mpt.verify" },
          ),
        );
        await store.close();
        await level.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      return out;
    },
  };
}
