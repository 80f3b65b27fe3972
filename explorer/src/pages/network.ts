// Validators (liveness, missed blocks, evidence) and oracles (readings relayed, rejections).
import type { ResultOf, ValidatorLivenessJson } from "../../../rpc/methods.js";
import { rejectMeaning } from "../decode.js";
import { h, section, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped } from "../format.js";
import type { PageContext } from "./context.js";
import { addressLink, badge, blockLink, mono, pageTitle, utilityLink } from "./widgets.js";

type Oracle = ResultOf<"oracle_list">["items"][number];

export async function validatorsPage(ctx: PageContext): Promise<HTMLElement> {
  const set = await ctx.api.call("chain_getValidators", {});
  const head = BigInt(set.height);
  const liveness = (v: ValidatorLivenessJson) => {
    if (v.lastSigned === null) return badge("never signed", "bad");
    const behind = head - BigInt(v.lastSigned);
    return behind <= 2n ? badge("online", "ok") : badge(`last signed ${behind} blocks ago`, "warn");
  };
  return h(
    "div",
    {},
    pageTitle("Validators"),
    h(
      "p",
      {},
      `${set.validators.length} validators at height ${set.height}; set hash `,
      mono(set.validatorsHash),
    ),
    table(
      "Validator set",
      [
        { title: "Utility", cell: (v: ValidatorLivenessJson) => utilityLink(v.utility) },
        { title: "Address", cell: (v) => addressLink(v.address) },
        { title: "Operator", cell: (v) => addressLink(v.operator) },
        { title: "Liveness", cell: liveness },
        { title: "Signed", cell: (v) => grouped(v.signed), numeric: true },
        { title: "Missed", cell: (v) => grouped(v.missed), numeric: true },
        {
          title: "Last signed",
          cell: (v) => (v.lastSigned ? blockLink(v.lastSigned) : "–"),
          numeric: true,
        },
        {
          title: "Evidence",
          cell: (v) =>
            v.evidence.length === 0
              ? "none"
              : h(
                  "ul",
                  {},
                  ...v.evidence.map((e) =>
                    h(
                      "li",
                      {},
                      "double vote at ",
                      e.evidenceHeight,
                      ", in block ",
                      blockLink(e.height),
                    ),
                  ),
                ),
        },
      ],
      set.validators,
    ),
  );
}

export async function oraclesPage(ctx: PageContext): Promise<HTMLElement> {
  const oracles = await ctx.api.call("oracle_list", { limit: 100 });
  return h(
    "div",
    {},
    pageTitle("Oracles"),
    table(
      "Oracles",
      [
        { title: "Address", cell: (o: Oracle) => addressLink(o.address) },
        { title: "Utility", cell: (o) => utilityLink(o.utility) },
        { title: "Active", cell: (o) => (o.active ? "yes" : "no") },
        { title: "Registered at", cell: (o) => blockLink(o.registeredHeight), numeric: true },
        { title: "Batches", cell: (o) => grouped(o.batches), numeric: true },
        { title: "Readings relayed", cell: (o) => grouped(o.readingsRelayed), numeric: true },
        {
          title: "Rejections by code",
          cell: (o) =>
            o.rejections.length === 0
              ? "none"
              : h(
                  "ul",
                  {},
                  ...o.rejections.map((r) =>
                    h(
                      "li",
                      {},
                      h("code", { title: rejectMeaning(r.code) }, r.code),
                      `: ${grouped(r.count)}`,
                    ),
                  ),
                ),
        },
      ],
      oracles.items,
    ),
    section(
      "Export",
      exportButton(
        "oracles",
        [
          { title: "address", value: (o: Oracle) => o.address },
          { title: "utility", value: (o) => o.utility },
          { title: "active", value: (o) => o.active },
          { title: "batches", value: (o) => o.batches },
          { title: "readingsRelayed", value: (o) => o.readingsRelayed },
          {
            title: "rejections",
            value: (o) => o.rejections.map((r) => `${r.code}=${r.count}`).join(" "),
          },
        ],
        (cursor) => ctx.api.call("oracle_list", { cursor, limit: 100 }),
      ),
    ),
  );
}
