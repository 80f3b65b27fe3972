// Blocks: the newest first, 20 to a page, and one block in full with every signature.
import type { ResultOf, ValidatorLivenessJson } from "../../../rpc/methods.js";
import type { CsvPage } from "../csv.js";
import { facts, h, link, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { short, time } from "../format.js";
import { routeHash, to } from "../router.js";
import type { PageContext } from "./context.js";
import { addressLink, blockLink, mono, pageTitle, txLink } from "./widgets.js";

type Block = NonNullable<ResultOf<"chain_getBlock">>;
type BlockTx = Block["transactions"][number];

const PAGE = 20n;

/** Blocks from `top` down, `count` of them (fewer near genesis). */
export async function blocksFrom(ctx: PageContext, top: bigint, count: bigint): Promise<Block[]> {
  const heights: bigint[] = [];
  for (let hgt = top; hgt >= 1n && heights.length < Number(count); hgt--) heights.push(hgt);
  const blocks = await Promise.all(
    heights.map((hgt) => ctx.api.call("chain_getBlock", { height: hgt.toString() })),
  );
  return blocks.filter((b): b is Block => b !== null);
}

/**
 * Blocks as a cursor list for CSV export: the chain has no block index method, so the cursor is
 * the next height down, which pages exactly like the RPC's own cursors.
 */
export function blockPages(ctx: PageContext, top: bigint) {
  return async (cursor: string | null): Promise<CsvPage<Block>> => {
    const from = cursor === null ? top : BigInt(cursor);
    const items = await blocksFrom(ctx, from, PAGE);
    const next = from - PAGE;
    return { items, nextCursor: next >= 1n ? next.toString() : null };
  };
}

export function proposerName(
  validators: readonly ValidatorLivenessJson[],
  address: string,
): string | undefined {
  return validators.find((v) => v.address.toLowerCase() === address.toLowerCase())?.utility;
}

export async function blocksPage(
  ctx: PageContext,
  before: string | undefined,
): Promise<HTMLElement> {
  const status = await ctx.api.call("chain_status", {});
  const head = BigInt(status.height);
  const top = before && /^\d+$/.test(before) ? BigInt(before) : head;
  const [blocks, validators] = await Promise.all([blocksFrom(ctx, top, PAGE), ctx.validators()]);
  const older = top - PAGE;
  const nav = h(
    "p",
    { class: "pager" },
    top < head ? link(routeHash({ page: "blocks", before: undefined }), "Newest") : null,
    " ",
    older >= 1n
      ? link(routeHash({ page: "blocks", before: older.toString() }), "Older blocks")
      : null,
  );
  return h(
    "div",
    {},
    pageTitle("Blocks"),
    table(
      `Blocks ${top} and below`,
      [
        { title: "Height", cell: (b: Block) => blockLink(b.height), numeric: true },
        { title: "Time (UTC)", cell: (b) => time(b.header.time) },
        {
          title: "Proposer",
          cell: (b) => addressLink(b.header.proposer, proposerName(validators, b.header.proposer)),
        },
        { title: "Txs", cell: (b) => b.transactions.length, numeric: true },
        { title: "Signatures", cell: (b) => b.commit?.signatures.length ?? "–", numeric: true },
        { title: "Hash", cell: (b) => h("code", { title: b.hash }, short(b.hash)) },
      ],
      blocks,
    ),
    nav,
    exportButton(
      "blocks",
      [
        { title: "height", value: (b: Block) => b.height },
        { title: "hash", value: (b) => b.hash },
        { title: "time", value: (b) => b.header.time },
        { title: "proposer", value: (b) => b.header.proposer },
        { title: "txs", value: (b) => b.transactions.length },
        { title: "signatures", value: (b) => b.commit?.signatures.length ?? "" },
        { title: "stateRoot", value: (b) => b.header.stateRoot },
      ],
      blockPages(ctx, head),
    ),
  );
}

export async function blockPage(ctx: PageContext, id: string): Promise<HTMLElement> {
  const params = /^\d+$/.test(id) ? { height: id } : { hash: id };
  const [block, validators] = await Promise.all([
    ctx.api.call("chain_getBlock", params),
    ctx.validators(),
  ]);
  if (block === null)
    return h("div", {}, pageTitle("Block not found"), h("p", {}, `No block ${id}.`));
  const header = block.header;
  const signatures = (commit: Block["commit"], caption: string) =>
    commit === null
      ? h("p", {}, `${caption}: none.`)
      : table(
          `${caption} (round ${commit.round}, ${commit.signatures.length} of ${validators.length})`,
          [
            {
              title: "Validator",
              cell: (s: { validator: string; signature: string }) =>
                addressLink(s.validator, proposerName(validators, s.validator)),
            },
            { title: "Signature", cell: (s) => h("code", { class: "wrap" }, s.signature) },
          ],
          commit.signatures,
        );
  const height = BigInt(block.height);
  return h(
    "div",
    {},
    pageTitle(`Block ${block.height}`),
    h(
      "p",
      { class: "pager" },
      height > 1n ? link(to.block((height - 1n).toString()), "← Parent") : null,
      " ",
      link(to.block((height + 1n).toString()), "Child →"),
    ),
    facts([
      ["Hash", mono(block.hash)],
      ["Time (UTC)", time(header.time)],
      ["Proposer", addressLink(header.proposer, proposerName(validators, header.proposer))],
      [
        "Parent",
        height > 1n
          ? link(to.block(header.parentHash), mono(header.parentHash))
          : mono(header.parentHash),
      ],
      ["State root", mono(header.stateRoot)],
      ["Tx root", mono(header.txRoot)],
      ["Receipts root", mono(header.receiptsRoot)],
      ["Validators hash", mono(header.validatorsHash)],
      ["Next validators hash", mono(header.nextValidatorsHash)],
      ["Evidence", String(block.evidenceCount)],
      ["Chain / version", `${header.chainId} / ${header.version}`],
    ]),
    section(
      "Transactions",
      table(
        `${block.transactions.length} transactions`,
        [
          { title: "#", cell: (r: { i: number; t: BlockTx }) => r.i, numeric: true },
          { title: "Hash", cell: (r) => txLink(r.t.hash) },
          { title: "Type", cell: (r) => r.t.typeName ?? `type ${r.t.type}` },
          { title: "Signer", cell: (r) => addressLink(r.t.signer) },
          { title: "Nonce", cell: (r) => r.t.nonce, numeric: true },
        ],
        block.transactions.map((t, i) => ({ i, t })),
      ),
    ),
    section(
      "Signatures",
      signatures(block.commit, "Commit of this block"),
      signatures(block.lastCommit, "Commit of the parent, carried in this block"),
    ),
  );
}
