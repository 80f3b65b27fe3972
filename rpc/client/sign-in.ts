// Sign-in with a key (rpc/sessions.ts): the key signs this node's one-time challenge and is then
// no longer needed; the session token returned stands for it on household-data calls, passed as
// `auth: {session}`. Browser-safe.
import { fromHex, to0x } from "../../lib/bytes.js";
import { publicKeyOf } from "../../lib/keys.js";
import { sign } from "../../lib/signature.js";
import type { ResultOf } from "../methods.js";
import { sessionMessage } from "../sessions.js";
import type { WattcapClient } from "./client.js";

export type SignedIn = ResultOf<"auth_signIn">;

export async function signIn(
  client: Pick<WattcapClient, "call">,
  secretKey: Uint8Array,
): Promise<SignedIn> {
  const { chainId, nonce, expires } = await client.call("auth_challenge", {});
  const signature = sign(secretKey, sessionMessage(chainId, fromHex(nonce), BigInt(expires)));
  return client.call("auth_signIn", {
    publicKey: to0x(publicKeyOf(secretKey)),
    nonce,
    expires,
    signature: to0x(signature),
  });
}
