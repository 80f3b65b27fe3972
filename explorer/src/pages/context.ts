// What every page gets: the RPC, live updates, the signed-in key for restricted household data,
// and an abort signal that fires when the reader navigates away (which also ends the page's
// subscriptions, so a page never keeps listening after it is gone).

import type { WattcapClient } from "../../../rpc/client/index.js";
import type { ValidatorLivenessJson } from "../../../rpc/methods.js";
import type { Api, Live, SubscribeParams } from "../api.js";
import { authorisedApi, type Session } from "../session.js";

export interface PageContext {
  readonly api: Api;
  /** For proven reads (verify.ts). */
  readonly client: WattcapClient;
  readonly signal: AbortSignal;
  readonly session: Session;
  /** Subscribes for as long as the page is shown. */
  live(params: SubscribeParams, onResult: (result: unknown) => void): void;
  /** The validator set at the head, fetched once per page. */
  validators(): Promise<ValidatorLivenessJson[]>;
  /** Every utility id the explorer can find (validators' and oracles'), sorted. */
  utilities(): Promise<string[]>;
}

export function pageContext(
  client: WattcapClient,
  live: Live,
  session: Session,
  signal: AbortSignal,
): PageContext {
  const api = authorisedApi(client, session);
  let validators: Promise<ValidatorLivenessJson[]> | undefined;
  let utilities: Promise<string[]> | undefined;
  const ctx: PageContext = {
    api,
    client,
    signal,
    session,
    live(params, onResult) {
      if (signal.aborted) return;
      // Household events and readings are household data (rpc/server.ts).
      const auth =
        params.topic === "household" || params.topic === "readings" ? session.auth() : undefined;
      const end = live.subscribe(auth ? { ...params, auth } : params, onResult);
      signal.addEventListener("abort", end, { once: true });
    },
    validators() {
      validators ??= api.call("chain_getValidators", {}).then((r) => r.validators);
      return validators;
    },
    utilities() {
      utilities ??= (async () => {
        const ids = new Set((await ctx.validators()).map((v) => v.utility));
        const oracles = await api.call("oracle_list", { limit: 100 });
        for (const o of oracles.items) ids.add(o.utility);
        return [...ids].sort();
      })();
      return utilities;
    },
  };
  return ctx;
}
