// The only way the explorer creates DOM. Text goes in as text nodes and attributes through
// setAttribute, never through an HTML parser, so a value from the chain (a utility's name, a
// bill reference, a reject message) can never become markup or script. test/explorer/units
// greps explorer/src for the HTML-parsing APIs to keep it that way.

export type Child = Node | string | number | bigint | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

const SVG_NS = "http://www.w3.org/2000/svg";

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    // Event handler attributes would be code; callers add listeners with addEventListener.
    if (/^on/i.test(name)) throw new Error(`dom: refusing attribute ${name}`);
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, created in the SVG namespace. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces every child of `el`. */
export function replace(el: Node, ...children: Child[]): void {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
}

/**
 * A link inside the explorer. Only hash routes are built here, so no href from the chain can
 * point anywhere else (a `javascript:` URL would be code).
 */
export function link(route: string, ...children: Child[]): HTMLAnchorElement {
  if (!route.startsWith("#/")) throw new Error(`dom: not an explorer route: ${route}`);
  return h("a", { href: route }, ...children);
}

/** A definition list of label → value rows. */
export function facts(rows: readonly (readonly [string, Child])[]): HTMLDListElement {
  const dl = h("dl", { class: "facts" });
  for (const [label, value] of rows) append(dl, [h("dt", {}, label), h("dd", {}, value)]);
  return dl;
}

export interface Column<T> {
  readonly title: string;
  readonly cell: (row: T) => Child;
  readonly numeric?: boolean;
}

/** A table with a caption; numeric columns align right. */
export function table<T>(
  caption: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  empty = "None.",
): HTMLElement {
  if (rows.length === 0) return h("p", { class: "empty" }, `${caption}: ${empty}`);
  const head = h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c.title)));
  const body = h(
    "tbody",
    {},
    ...rows.map((row) =>
      h("tr", {}, ...columns.map((c) => h("td", c.numeric ? { class: "num" } : {}, c.cell(row)))),
    ),
  );
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h("table", {}, h("caption", {}, caption), h("thead", {}, head), body),
  );
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}
