// What the node's chain, mempool and producer tests share: signed transactions and commits for
// the validators of test/vm/helpers.ts genesisJson, and a chain over a temporary store.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import { equalBytes } from "../../lib/bytes.js";
import { type Commit, commitFromPrecommits } from "../../lib/commit.js";
import { encodeTx, signTx } from "../../lib/tx.js";
import type { Validator } from "../../lib/validator.js";
import { signVote } from "../../lib/vote.js";
import { Chain, type ChainOptions } from "../../node/chain.js";
import { ManualClock } from "../../node/clock.js";
import { buildGenesis, type ChainGenesis } from "../../node/genesis.js";
import { Store } from "../../state/store.js";
import { encodePayload, type PayloadOf, type TxTypeName, txTypeNumber } from "../../vm/tx/types.js";
import { type Actor, genesisJson, hash32, T0, validatorOf } from "../vm/helpers.js";

export const CHAIN_ID = "wattcap-test";

/** The secret key of any validator genesisJson can name (4 utilities, 2 validators each). */
export function secretOf(address: Uint8Array): Uint8Array {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 2; j++) {
      const v = validatorOf(i, j);
      if (equalBytes(v.address, address)) return v.secretKey;
    }
  }
  throw new Error("unknown validator");
}

/** A commit of `blockHash` signed by the first `signers` members of the set. */
export function signCommit(
  set: readonly Validator[],
  height: bigint,
  blockHash: Uint8Array,
  { signers = set.length, round = 0 }: { signers?: number; round?: number } = {},
): Commit {
  const votes = set
    .slice(0, signers)
    .map((v) =>
      signVote(
        { type: "precommit", chainId: CHAIN_ID, height, round, blockHash, validator: v.address },
        secretOf(v.address),
      ),
    );
  return commitFromPrecommits(set, height, round, blockHash, votes);
}

/** A signed, encoded transaction. */
export function signedTx<N extends TxTypeName>(
  signer: Actor,
  nonce: bigint,
  type: N,
  payload: PayloadOf<N>,
  chainId = CHAIN_ID,
): Uint8Array {
  const body = {
    chainId,
    nonce,
    type: txTypeNumber(type),
    payload: encodePayload(type, payload),
    signer: signer.publicKey,
  };
  return encodeTx(signTx(body, signer.secretKey));
}

/** A household registration payload with flat baselines. */
export function registration(
  household: Actor,
  meter: number,
  baseline = 1000n,
): PayloadOf<"registerHousehold"> {
  return {
    household: household.address,
    meterIdHash: hash32(meter),
    meterKey: undefined,
    registers: 1,
    baselines: Array.from({ length: 12 }, () => baseline),
  };
}

export interface TestChain {
  readonly chain: Chain;
  readonly store: Store;
  readonly clock: ManualClock;
  readonly dir: string;
}

/**
 * A chain over a store in a fresh temporary directory (removed at teardown), or in `dir` (kept,
 * so a test can reopen it), with a manual clock just after genesis.
 */
export async function openChain(
  t: Pick<Test, "teardown">,
  genesis: ChainGenesis,
  options: ChainOptions = {},
  dir?: string,
): Promise<TestChain> {
  const path = dir ?? (await mkdtemp(join(tmpdir(), "wattcap-chain-")));
  const store = await Store.open(path);
  t.teardown(async () => {
    await store.close();
    if (!dir) await rm(path, { recursive: true, force: true });
  });
  const clock = new ManualClock(T0 + 1000n);
  const chain = await Chain.open(store, genesis, { clock, ...options });
  return { chain, store, clock, dir: path };
}

/**
 * A one-utility genesis whose chain and first period start now (real time): a node started on
 * it has no past periods to catch up on.
 */
export function genesisFromNow(): ChainGenesis {
  const now = BigInt(Date.now());
  const json = genesisJson([1]);
  return buildGenesis({
    ...json,
    genesisTime: now.toString(),
    periods: { ...json.periods, startMs: now.toString() },
  });
}
