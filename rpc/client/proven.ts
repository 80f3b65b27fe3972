// Reads that the client proves instead of believing: an account (nonce, balance) and a
// household's credits of one vintage, each by the SMT proof of its state key (vm/keys.ts)
// against a header the light client believes. The node's unproven answer, when given, must
// agree with the proven value, or the read fails VALUE_MISMATCH. Browser-safe.
import { parseAddress } from "../../lib/address.js";
import type { Schema } from "../../lib/codec.js";
import { keys } from "../../vm/keys.js";
import { type Account, AccountSchema } from "../../vm/model/account.js";
import { type CreditHolding, CreditHoldingSchema } from "../../vm/settlement/credits.js";
import { bytesJson } from "../json.js";
import type { ResultOf } from "../methods.js";
import type { WattcapClient } from "./client.js";
import type { LightClient, Verified, VerifyFailure } from "./light-client.js";

export type Proven<T> = Verified<T> | VerifyFailure;

/** Fetches the proof of `key` (at the head, or at `height`) and verifies it. */
export async function provenState<T>(
  client: WattcapClient,
  light: LightClient,
  key: Uint8Array,
  schema: Schema<T>,
  height?: bigint,
): Promise<Proven<T>> {
  const answer = await client.rpc.state_getProof(
    height === undefined
      ? { key: bytesJson(key) }
      : { key: bytesJson(key), height: height.toString() },
  );
  return light.verifyState(answer, key, schema);
}

function mismatch(what: string, proven: bigint, claimed: string): VerifyFailure {
  return {
    verified: false,
    code: "VALUE_MISMATCH",
    message: `the node said ${what} is ${claimed}, but the proof shows ${proven}`,
  };
}

/** An account's nonce and balance, proven; an absent account proves as zero. */
export async function provenAccount(
  client: WattcapClient,
  light: LightClient,
  address: string,
  claimed?: Pick<ResultOf<"account_get">, "balance">,
): Promise<Proven<Account>> {
  const result = await provenState(
    client,
    light,
    keys.account(parseAddress(address)),
    AccountSchema,
  );
  if (!result.verified) return result;
  const account = result.value ?? { nonce: 0n, balance: 0n };
  if (claimed !== undefined && claimed.balance !== account.balance.toString()) {
    return mismatch("the balance", account.balance, claimed.balance);
  }
  return { ...result, value: account };
}

/** One vintage of a household's credits, proven; absent proves as none held. */
export async function provenCredits(
  client: WattcapClient,
  light: LightClient,
  household: string,
  vintage: bigint,
  claimed?: { amount: string; locked: string },
): Promise<Proven<CreditHolding>> {
  const key = keys.credits(parseAddress(household), vintage);
  const result = await provenState(client, light, key, CreditHoldingSchema);
  if (!result.verified) return result;
  const holding = result.value ?? { amount: 0n, locked: 0n };
  if (claimed !== undefined) {
    if (claimed.amount !== holding.amount.toString()) {
      return mismatch(`vintage ${vintage}'s credits`, holding.amount, claimed.amount);
    }
    if (claimed.locked !== holding.locked.toString()) {
      return mismatch(`vintage ${vintage}'s locked credits`, holding.locked, claimed.locked);
    }
  }
  return { ...result, value: holding };
}
