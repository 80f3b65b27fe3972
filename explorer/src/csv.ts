// CSV export (RFC 4180) streamed page by page through the RPC's cursors, so an export of any
// length holds one page at a time and has no row cap. Pure: the page source and the sink are
// passed in; explorer/src/export.ts connects them to the RPC and to a file.

/**
 * One field. Quoted when it holds a comma, quote, CR or LF (quotes doubled). A text value that
 * a spreadsheet would run as a formula (= + - @, or a leading tab/CR) gets a leading apostrophe;
 * plain numbers, negatives included, are left as they are since they cannot be formulas.
 */
export function csvField(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated as RFC 4180 says. */
export function csvRow(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

export interface CsvColumn<T> {
  readonly title: string;
  readonly value: (row: T) => unknown;
}

/** One page of a list: its rows and the cursor of the next page (null on the last). */
export interface CsvPage<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/**
 * The CSV text of a whole list, one chunk per page: the header row first, then each page's
 * rows as that page arrives. `signal` stops it between pages.
 */
export async function* csvChunks<T>(
  columns: readonly CsvColumn<T>[],
  fetchPage: (cursor: string | null) => Promise<CsvPage<T>>,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  yield csvRow(columns.map((c) => c.title));
  let cursor: string | null = null;
  const seen = new Set<string>();
  for (;;) {
    signal?.throwIfAborted();
    const page: CsvPage<T> = await fetchPage(cursor);
    if (page.items.length > 0) {
      yield page.items.map((row) => csvRow(columns.map((c) => c.value(row)))).join("");
    }
    if (page.nextCursor === null) return;
    // A server that hands back a cursor it already gave would loop forever.
    if (seen.has(page.nextCursor)) throw new Error("the RPC repeated a cursor");
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
