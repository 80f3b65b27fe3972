// The CSV button every list has: it walks the list's cursors page by page (csv.ts) and hands
// the file to the browser as a download. Each page becomes its own Blob part as it arrives, so
// the page's JSON is dropped at once and the browser may keep the parts out of the JS heap.
import { type CsvColumn, type CsvPage, csvChunks } from "./csv.js";
import { h } from "./dom.js";

export function exportButton<T>(
  name: string,
  columns: readonly CsvColumn<T>[],
  fetchPage: (cursor: string | null) => Promise<CsvPage<T>>,
): HTMLElement {
  const status = h("span", { class: "export-status", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "export" }, `Export ${name} (CSV)`);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const parts: Blob[] = [];
    let rows = -1;
    try {
      for await (const chunk of csvChunks(columns, fetchPage)) {
        parts.push(new Blob([chunk], { type: "text/csv" }));
        rows += chunk.split("\r\n").length - 1;
        status.textContent = `${rows} rows…`;
      }
      const url = URL.createObjectURL(new Blob(parts, { type: "text/csv;charset=utf-8" }));
      const a = h("a", { href: url, download: `${name.replace(/[^a-z0-9-]+/gi, "-")}.csv` });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `${rows} rows exported.`;
    } catch (e) {
      status.textContent = `Export failed: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      button.disabled = false;
    }
  });
  return h("p", { class: "export-row" }, button, " ", status);
}
