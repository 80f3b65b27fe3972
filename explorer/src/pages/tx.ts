// One transaction: status, where it landed, the decoded payload, events and per-reading results.
import type { ReadingResultJson } from "../../../rpc/methods.js";
import { decodeTxHex, rejectMeaning } from "../decode.js";
import { facts, h, section, table } from "../dom.js";
import type { PageContext } from "./context.js";
import { addressLink, badge, blockLink, jsonBlock, mono, pageTitle } from "./widgets.js";

function rejectText(code: string | null): HTMLElement | string {
  return code === null ? "–" : h("span", {}, h("code", {}, code), ` — ${rejectMeaning(code)}`);
}

export async function txPage(ctx: PageContext, hash: string): Promise<HTMLElement> {
  const tx = await ctx.api.call("tx_get", { hash });
  if (tx.status === "unknown") {
    return h("div", {}, pageTitle("Transaction not found"), h("p", {}, `No transaction ${hash}.`));
  }
  const block =
    tx.height === null ? null : await ctx.api.call("chain_getBlock", { height: tx.height });
  const inBlock = block && tx.index !== null ? block.transactions[tx.index] : undefined;
  const decoded = inBlock ? decodeTxHex(inBlock.bytes) : undefined;
  const receipt = tx.receipt;
  const statusBadge =
    tx.status === "finalized"
      ? badge("finalized", "ok")
      : tx.status === "rejected"
        ? badge("rejected", "bad")
        : badge(tx.status, "warn");
  return h(
    "div",
    {},
    pageTitle("Transaction"),
    facts([
      ["Hash", mono(tx.hash)],
      ["Status", statusBadge],
      ["Block", tx.height === null ? "pending" : blockLink(tx.height)],
      ["Position", tx.index === null ? "–" : String(tx.index)],
      ["Type", inBlock ? (inBlock.typeName ?? `type ${inBlock.type}`) : "–"],
      ["Signer", inBlock ? addressLink(inBlock.signer) : "–"],
      ["Nonce", inBlock?.nonce ?? "–"],
      ["Outcome", receipt ? receipt.outcome : "–"],
      ["Reject code", rejectText(receipt?.reject ?? null)],
    ]),
    section(
      "Payload",
      decoded === undefined
        ? h("p", {}, "Not in a block yet.")
        : decoded.ok
          ? jsonBlock(decoded.payload)
          : h("p", { class: "error" }, `Could not decode: ${decoded.message}`),
    ),
    section(
      "Events",
      table(
        "Events",
        [
          { title: "Kind", cell: (e: { kind: string; value: unknown }) => e.kind },
          { title: "Value", cell: (e) => jsonBlock(e.value) },
        ],
        receipt?.events ?? [],
      ),
    ),
    receipt?.readingResults
      ? section(
          "Readings",
          table(
            "Result of each reading in the batch",
            [
              { title: "#", cell: (r: { i: number; r: ReadingResultJson }) => r.i, numeric: true },
              { title: "Result", cell: (r) => r.r.result },
              { title: "Reject code", cell: (r) => rejectText(r.r.reject) },
            ],
            receipt.readingResults.map((r, i) => ({ i, r })),
          ),
        )
      : null,
  );
}
