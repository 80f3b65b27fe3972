// Search: a height, a block or transaction hash, a meter id hash, an address, or a meter id.
// The form of the query says what it can be; the RPC says which of those exists.

import { to0x, utf8 } from "../../../lib/bytes.js";
import { sha256 } from "../../../lib/hash.js";
import { h, link } from "../dom.js";
import { classify } from "../format.js";
import { to } from "../router.js";
import type { PageContext } from "./context.js";
import { pageTitle } from "./widgets.js";

/** Meter ids are kept on chain only as sha256 of their UTF-8 text. */
function meterIdHash(meterId: string): string {
  return to0x(sha256(utf8(meterId)));
}

/** The route a query resolves to, or undefined when nothing matches. */
export async function resolve(ctx: PageContext, input: string): Promise<string | undefined> {
  const q = classify(input);
  switch (q.kind) {
    case "empty":
      return undefined;
    case "height": {
      const block = await ctx.api.call("chain_getBlock", { height: q.height });
      return block ? to.block(q.height) : undefined;
    }
    case "address":
      return to.address(q.address);
    case "hash": {
      const [block, tx, readings] = await Promise.all([
        ctx.api.call("chain_getBlock", { hash: q.hash }),
        ctx.api.call("tx_get", { hash: q.hash }),
        ctx.api.call("readings_byMeter", { meterIdHash: q.hash, limit: 1 }).catch(() => null),
      ]);
      if (block) return to.block(block.height);
      if (tx.status !== "unknown") return to.tx(q.hash);
      if (readings && readings.items.length > 0) return to.meter(q.hash);
      return undefined;
    }
    case "meter-id": {
      const hash = meterIdHash(q.meterId);
      const readings = await ctx.api
        .call("readings_byMeter", { meterIdHash: hash, limit: 1 })
        .catch(() => null);
      return readings && readings.items.length > 0 ? to.meter(hash) : undefined;
    }
  }
}

export async function searchPage(ctx: PageContext, query: string): Promise<HTMLElement> {
  const target = await resolve(ctx, query);
  if (target !== undefined) {
    location.replace(target);
    return h("p", {}, "Found: ", link(target, target));
  }
  return h(
    "div",
    {},
    pageTitle("Not found"),
    h("p", {}, "Nothing on this chain matches ", h("code", {}, query), "."),
    h(
      "p",
      {},
      "Search takes a block height, a block or transaction hash, an address (0x + 40 hex), a meter id hash (0x + 64 hex) or a meter id.",
    ),
  );
}
