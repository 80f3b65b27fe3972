// Access to restricted household data. Public nodes may answer household methods only to
// requests signed by the household, its utility or an auditor key (DESIGN §7); such a refusal
// is error -32003, which pages treat as "restricted", not as a failure.

import { RpcClientError } from "../../rpc/client/transport.js";
import { UNAUTHORISED } from "../../rpc/errors.js";
import { h } from "./dom.js";

export function isRestricted(error: unknown): boolean {
  return error instanceof RpcClientError && error.code === UNAUTHORISED;
}

export interface Session {
  /** What the page shows where the node kept data back. */
  signInPanel(reason: string): HTMLElement;
}

/**
 * The session of a reader without a key. The RPC's signed-request form is not defined yet
 * (rpc/server.ts accepts no request signatures), so the panel says what is missing and where
 * the data can be read instead.
 */
export function anonymousSession(): Session {
  return {
    signInPanel: (reason) =>
      h(
        "aside",
        { class: "restricted", role: "note" },
        h("strong", {}, "Restricted. "),
        reason,
        " Open the explorer on a node you run (or one that serves your utility's auditors) to see it.",
      ),
  };
}
