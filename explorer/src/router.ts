// Hash routes: the explorer is static files, so every view lives after `#` and a reload or a
// shared link opens the same view without any server-side routing. Pure: parse and build only.

export type Route =
  | { readonly page: "home" }
  | { readonly page: "blocks"; readonly before: string | undefined }
  | { readonly page: "block"; readonly id: string }
  | { readonly page: "tx"; readonly hash: string }
  | { readonly page: "address"; readonly address: string }
  | { readonly page: "meter"; readonly meterIdHash: string }
  | {
      readonly page: "periods";
      readonly utility: string | undefined;
      readonly period: string | undefined;
    }
  | { readonly page: "market"; readonly utility: string | undefined }
  | { readonly page: "validators" }
  | { readonly page: "oracles" }
  | { readonly page: "utilities" }
  | { readonly page: "utility"; readonly id: string }
  | { readonly page: "search"; readonly query: string }
  /** `back`: the route (a "#/…" hash) to return to once signed in. */
  | { readonly page: "sign-in"; readonly back: string | undefined }
  | { readonly page: "not-found"; readonly path: string };

function part(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The route of a location hash ("#/block/12"); anything unknown is "not-found". */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  const [head, a, b] = path.split("/");
  const first = part(a);
  switch (head ?? "") {
    case "":
      return { page: "home" };
    case "blocks":
      return { page: "blocks", before: first };
    case "block":
      if (first) return { page: "block", id: first };
      break;
    case "tx":
      if (first) return { page: "tx", hash: first };
      break;
    case "address":
      if (first) return { page: "address", address: first };
      break;
    case "meter":
      if (first) return { page: "meter", meterIdHash: first };
      break;
    case "periods":
      return { page: "periods", utility: first, period: part(b) };
    case "market":
      return { page: "market", utility: first };
    case "validators":
      return { page: "validators" };
    case "oracles":
      return { page: "oracles" };
    case "utilities":
      return { page: "utilities" };
    case "utility":
      if (first) return { page: "utility", id: first };
      break;
    case "search":
      return { page: "search", query: first ?? "" };
    case "sign-in":
      return { page: "sign-in", back: first };
  }
  return { page: "not-found", path };
}

const enc = encodeURIComponent;

/** The hash of a route; parseRoute(routeHash(r)) is r. */
export function routeHash(route: Route): string {
  switch (route.page) {
    case "home":
      return "#/";
    case "blocks":
      return route.before ? `#/blocks/${enc(route.before)}` : "#/blocks";
    case "block":
      return `#/block/${enc(route.id)}`;
    case "tx":
      return `#/tx/${enc(route.hash)}`;
    case "address":
      return `#/address/${enc(route.address)}`;
    case "meter":
      return `#/meter/${enc(route.meterIdHash)}`;
    case "periods":
      if (!route.utility) return "#/periods";
      return route.period
        ? `#/periods/${enc(route.utility)}/${enc(route.period)}`
        : `#/periods/${enc(route.utility)}`;
    case "market":
      return route.utility ? `#/market/${enc(route.utility)}` : "#/market";
    case "validators":
    case "oracles":
    case "utilities":
      return `#/${route.page}`;
    case "utility":
      return `#/utility/${enc(route.id)}`;
    case "search":
      return `#/search/${enc(route.query)}`;
    case "sign-in":
      return route.back ? `#/sign-in/${enc(route.back)}` : "#/sign-in";
    case "not-found":
      return `#/${route.path}`;
  }
}

export const to = {
  block: (id: string | bigint) => routeHash({ page: "block", id: String(id) }),
  tx: (hash: string) => routeHash({ page: "tx", hash }),
  address: (address: string) => routeHash({ page: "address", address }),
  meter: (meterIdHash: string) => routeHash({ page: "meter", meterIdHash }),
  utility: (id: string) => routeHash({ page: "utility", id }),
  market: (utility: string) => routeHash({ page: "market", utility }),
  period: (utility: string, period?: string) => routeHash({ page: "periods", utility, period }),
  signIn: (back?: string) => routeHash({ page: "sign-in", back }),
};
