// A meter's readings as relayed, each with its result and reject code.
import type { ResultOf } from "../../../rpc/methods.js";
import { rejectMeaning } from "../decode.js";
import { h, table } from "../dom.js";
import { exportButton } from "../export.js";
import { grouped, time } from "../format.js";
import { to } from "../router.js";
import { isRestricted } from "../session.js";
import type { PageContext } from "./context.js";
import { restrictedPanel } from "./sign-in.js";
import { badge, blockLink, mono, pageTitle, txLink } from "./widgets.js";

type Reading = ResultOf<"readings_byMeter">["items"][number];

export async function meterPage(ctx: PageContext, meterIdHash: string): Promise<HTMLElement> {
  let readings: ResultOf<"readings_byMeter">;
  try {
    readings = await ctx.api.call("readings_byMeter", { meterIdHash, limit: 50 });
  } catch (e) {
    if (!isRestricted(e)) throw e;
    return h(
      "div",
      {},
      pageTitle("Meter"),
      h("p", {}, "Meter id hash ", mono(meterIdHash)),
      restrictedPanel(
        ctx.session,
        "This node shows a meter's readings only to its household, its utility or an auditor.",
        to.meter(meterIdHash),
      ),
    );
  }
  return h(
    "div",
    {},
    pageTitle("Meter"),
    h("p", {}, "Meter id hash ", mono(meterIdHash)),
    table(
      "Readings, newest first",
      [
        { title: "Time (UTC)", cell: (r: Reading) => time(r.time) },
        {
          title: "Registers (Wh)",
          cell: (r) => r.registers.map(grouped).join(" / "),
          numeric: true,
        },
        {
          title: "Result",
          cell: (r) =>
            r.result === "rejected"
              ? h(
                  "span",
                  {},
                  badge("rejected", "bad"),
                  " ",
                  h("code", { title: rejectMeaning(r.reject ?? "") }, r.reject ?? ""),
                )
              : badge(r.result, r.result === "accepted" ? "ok" : "info"),
        },
        { title: "Block", cell: (r) => blockLink(r.height), numeric: true },
        { title: "Transaction", cell: (r) => txLink(r.tx) },
      ],
      readings.items,
    ),
    exportButton(
      "readings",
      [
        { title: "height", value: (r: Reading) => r.height },
        { title: "tx", value: (r) => r.tx },
        { title: "index", value: (r) => r.index },
        { title: "time", value: (r) => r.time },
        { title: "registers", value: (r) => r.registers.join(" ") },
        { title: "result", value: (r) => r.result },
        { title: "reject", value: (r) => r.reject },
      ],
      (cursor) => ctx.api.call("readings_byMeter", { meterIdHash, cursor, limit: 100 }),
    ),
  );
}
