// The explorer's entry: finds the RPC, then renders the page of the location's hash into
// <main>, ending the previous page's subscriptions and ignoring its late answers.
import { WattcapClient } from "../../rpc/client/index.js";
import { Live, rpcUrl, wsUrlOf } from "./api.js";
import { h, link, replace } from "./dom.js";
import { addressPage } from "./pages/address.js";
import { blockPage, blocksPage } from "./pages/blocks.js";
import { type PageContext, pageContext } from "./pages/context.js";
import { homePage } from "./pages/home.js";
import { marketPage } from "./pages/market.js";
import { meterPage } from "./pages/meter.js";
import { oraclesPage, validatorsPage } from "./pages/network.js";
import { periodsPage } from "./pages/periods.js";
import { searchPage } from "./pages/search.js";
import { signInPage } from "./pages/sign-in.js";
import { txPage } from "./pages/tx.js";
import { utilitiesPage, utilityPage } from "./pages/utilities.js";
import { addressLink, errorBox, pageTitle } from "./pages/widgets.js";
import { parseRoute, type Route, routeHash, to } from "./router.js";
import { type Api, authorisedApi, rightsText, Session } from "./session.js";

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
    case "sign-in":
      return signInPage(ctx, route.back);
    case "not-found":
      return Promise.resolve(
        h("div", {}, pageTitle("Not found"), h("p", {}, `No page ${route.path}.`)),
      );
  }
}

/** The header's sign-in state: who is signed in and what they may read, or a sign-in link. */
function showAccount(el: HTMLElement, session: Session, api: Api): void {
  const current = session.current;
  if (!current) {
    replace(el, link(to.signIn(), "Sign in"));
    return;
  }
  const signOut = h("button", { type: "button", class: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => void session.signOut(api));
  replace(
    el,
    h(
      "span",
      { class: "signed-in", title: rightsText(current) },
      "Signed in: ",
      addressLink(current.address),
      ` (${current.auditor ? "auditor" : current.utility !== null ? `operator of ${current.utility}` : "household"})`,
    ),
    " ",
    signOut,
  );
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

/** sessionStorage, where the browser allows it (it may be disabled or throw). */
function sessionStorageOrNone(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
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
  const session = new Session(url, sessionStorageOrNone());
  const account = document.getElementById("account");
  if (account) {
    const api = authorisedApi(client, session);
    showAccount(account, session, api);
    // A change of who is signed in changes what the open page may show: render it again.
    session.onChange(() => {
      showAccount(account, session, api);
      void show();
    });
  }
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
