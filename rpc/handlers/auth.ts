// Sign-in for household data (rpc/sessions.ts): a challenge, its signature exchanged for a
// session token, and sign-out.
import { signIn } from "../access.js";
import { addressJson, bigintJson, bytesJson } from "../json.js";
import { type Handler, parse } from "./context.js";

export const authChallenge: Handler<"auth_challenge"> = (_params, ctx) => {
  const { nonce, expires } = ctx.access.sessions.challenge();
  return { chainId: ctx.backend.chainId, nonce: bytesJson(nonce), expires: bigintJson(expires) };
};

export const authSignIn: Handler<"auth_signIn"> = (params, ctx) => {
  const { policy, sessions } = ctx.access;
  const { signer, expires, rights } = signIn(ctx.backend, policy, sessions, params);
  return {
    session: bytesJson(sessions.open(signer, expires)),
    address: addressJson(signer),
    expires: bigintJson(expires),
    auditor: rights.auditor,
    utility: rights.utility ?? null,
    household: rights.household ? addressJson(rights.household) : null,
  };
};

export const authSignOut: Handler<"auth_signOut"> = (params, ctx) => ({
  removed: ctx.access.sessions.close(parse.hash("session", params.session)),
});
