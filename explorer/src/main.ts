// The explorer's entry: finds the RPC, then renders the page of the location's hash into
// <main>, ending the previous page's subscriptions and ignoring its late answers.
import { WattcapClient } from "../../rpc/client/index.js";
import { Live, rpcUrl, wsUrlOf } from "./api.js";
import { h, replace } from "./dom.js";
import { addressPage } from "./pages/address.js";
import { blockPage, blocksPage } from "./pages/blocks.js";
import { type PageContext, pageContext } from "./pages/context.js";
import { homePage } from "./pages/home.js";
import { marketPage } from "./pages/market.js";
import { meterPage } from "./pages/meter.js";
import { oraclesPage, validatorsPage } from "./pages/network.js";
import { periodsPage } from "./pages/periods.js";
import { searchPage } from "./pages/search.js";
import { txPage } from "./pages/tx.js";
import { utilitiesPage, utilityPage } from "./pages/utilities.js";
import { errorBox, pageTitle } from "./pages/widgets.js";
import { parseRoute, type Route, routeHash } from "./router.js";
import { anonymousSession } from "./session.js";

function render(ctx: PageContext, route: Route): Promise<HTMLElement> {
  switch (route.page) {
    case "home":
      return homePage(ctx);
    case "blocks":
      return blocksPage(ctx, route.before);
    case "block":
      return blockPage(ctx, route.id);
    case "tx":
      return txPage(ctx, route.hash);
    case "address":
      return addressPage(ctx, route.address);
    case "meter":
      return meterPage(ctx, route.meterIdHash);
    case "periods":
      return periodsPage(ctx, route.utility, route.period);
    case "market":
      return marketPage(ctx, route.utility);
    case "validators":
      return validatorsPage(ctx);
    case "oracles":
      return oraclesPage(ctx);
    case "utilities":
      return utilitiesPage(ctx);
    case "utility":
      return utilityPage(ctx, route.id);
    case "search":
      return searchPage(ctx, route.query);
    case "not-found":
      return Promise.resolve(
        h("div", {}, pageTitle("Not found"), h("p", {}, `No page ${route.path}.`)),
      );
  }
}

/** Marks the nav link of the current section for sighted and screen-reader users alike. */
function markNav(route: Route): void {
  const section =
    route.page === "block" ? "blocks" : route.page === "utility" ? "utilities" : route.page;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("header nav a")) {
    const target = a.getAttribute("href")?.replace(/^#\//, "") || "home";
    if (target === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function start(): Promise<void> {
  const main = document.getElementById("main");
  const liveStatus = document.getElementById("live-status");
  const form = document.getElementById("search") as HTMLFormElement | null;
  if (!main) return;
  const url = await rpcUrl(location, fetch);
  const client = new WattcapClient({ url, wsUrl: wsUrlOf(url) });
  const live = new Live(client);
  const session = anonymousSession();
  live.onState((state) => {
    if (liveStatus)
      liveStatus.textContent =
        state === "open" ? "live" : state === "connecting" ? "connecting…" : "offline";
  });
  const rpcLabel = document.getElementById("rpc-url");
  if (rpcLabel) rpcLabel.textContent = url;

  let current: AbortController | undefined;
  let first = true;
  const show = async () => {
    current?.abort();
    const controller = new AbortController();
    current = controller;
    const route = parseRoute(location.hash);
    markNav(route);
    main.setAttribute("aria-busy", "true");
    replace(main, h("p", { class: "loading" }, "Loading…"));
    const ctx = pageContext(client, live, session, controller.signal);
    let page: HTMLElement;
    try {
      page = await render(ctx, route);
    } catch (e) {
      page = h("div", {}, pageTitle("Error"), errorBox(e));
    }
    if (controller.signal.aborted) return;
    replace(main, page);
    main.removeAttribute("aria-busy");
    // After a navigation, moving focus to the new content tells keyboard and screen-reader
    // users the page changed; on first load focus stays at the top, where the skip link is.
    if (!first) {
      main.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
    first = false;
  };
  // The skip link's own "#main" would be read as a route; it moves focus instead.
  document.querySelector(".skip")?.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements.namedItem("q") as HTMLInputElement | null;
    const query = input?.value.trim() ?? "";
    if (query) location.hash = routeHash({ page: "search", query });
  });
  window.addEventListener("hashchange", () => void show());
  await show();
}

void start();
