// Small pieces the pages share: links to chain objects, status text, code blocks, CSV buttons.
import { type Child, h, link } from "../dom.js";
import { short } from "../format.js";
import { to } from "../router.js";

export const blockLink = (height: string) => link(to.block(height), height);

export const txLink = (hash: string) => {
  const a = link(to.tx(hash), short(hash));
  a.title = hash;
  return a;
};

export function addressLink(address: string, name?: string): HTMLElement {
  const a = link(to.address(address), h("code", {}, short(address, 6)));
  a.title = address;
  return name ? h("span", {}, `${name} `, a) : a;
}

export const utilityLink = (id: string) => link(to.utility(id), id);

export const meterLink = (hash: string) => {
  const a = link(to.meter(hash), short(hash));
  a.title = hash;
  return a;
};

export const mono = (text: string) => h("code", { class: "mono" }, text);

/** A JSON value shown as text (events, decoded payloads): never parsed as markup. */
export function jsonBlock(value: unknown): HTMLElement {
  return h(
    "pre",
    { class: "json" },
    JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2),
  );
}

export function pageTitle(title: string, ...rest: Child[]): HTMLElement {
  document.title = `${title} · Wattcap explorer`;
  return h("h1", {}, title, ...rest);
}

export function badge(text: string, kind: "ok" | "bad" | "warn" | "info" = "info"): HTMLElement {
  return h("span", { class: `badge ${kind}` }, text);
}

export function errorBox(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  return h("p", { class: "error", role: "alert" }, `Error: ${message}`);
}
