// Sign-in with a household, utility-operator or auditor key, for nodes that restrict household
// data (session.ts). The key comes from a pasted hex secret or a `wattcap wallet` keystore file
// opened here with its passphrase; it signs the node's challenge in this page and is wiped
// right after. Nothing but the signature and the public key leaves the browser.
import { decryptKeystore } from "../../../rpc/wallet/keystore-browser.js";
import { parseKeystore } from "../../../rpc/wallet/keystore-file.js";
import { facts, h, link, replace } from "../dom.js";
import { short } from "../format.js";
import { to } from "../router.js";
import { parseSecretKey, rightsText, type Session, SignInError } from "../session.js";
import type { PageContext } from "./context.js";
import { addressLink, errorBox, pageTitle, utilityLink } from "./widgets.js";

async function secretFrom(form: HTMLFormElement): Promise<Uint8Array> {
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  const file = field("keystore").files?.[0];
  if (file) {
    const parsed = parseKeystore(await file.text(), file.name);
    return decryptKeystore(parsed, field("passphrase").value, file.name);
  }
  if (!field("secret").value.trim()) {
    throw new SignInError("paste a private key or choose a keystore file");
  }
  return parseSecretKey(field("secret").value);
}

function signedInView(ctx: PageContext): HTMLElement {
  const current = ctx.session.current;
  if (!current) return h("p", {}, "Not signed in.");
  const readable: HTMLElement[] = [];
  if (current.household) {
    readable.push(h("li", {}, "Your household: ", addressLink(current.household)));
  }
  if (current.utility !== null) {
    readable.push(
      h("li", {}, "Households of ", utilityLink(current.utility), " (from the utility's page)"),
    );
  }
  if (current.auditor) readable.push(h("li", {}, "Every household's data (auditor key)"));
  const signOut = h("button", { type: "button" }, "Sign out");
  signOut.addEventListener("click", () => void ctx.session.signOut(ctx.api));
  return h(
    "div",
    { class: "signed-in-view" },
    facts([
      ["Signed in as", addressLink(current.address)],
      ["May read", rightsText(current)],
      ["Session ends", new Date(Number(current.expires)).toISOString()],
    ]),
    h("ul", {}, ...readable),
    signOut,
  );
}

export function signInPage(ctx: PageContext, back: string | undefined): Promise<HTMLElement> {
  const status = h("p", { role: "status", class: "sign-in-status" });
  const form = h(
    "form",
    { id: "sign-in", class: "sign-in", autocomplete: "off" },
    h(
      "fieldset",
      {},
      h("legend", {}, "A private key"),
      h("label", { for: "secret" }, "Private key (64 hex digits)"),
      h("input", {
        id: "secret",
        name: "secret",
        type: "password",
        autocomplete: "off",
        spellcheck: "false",
      }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Or a wallet keystore file"),
      h("label", { for: "keystore" }, "Keystore file (from wattcap wallet)"),
      h("input", {
        id: "keystore",
        name: "keystore",
        type: "file",
        accept: ".json,application/json",
      }),
      h("label", { for: "passphrase" }, "Passphrase"),
      h("input", { id: "passphrase", name: "passphrase", type: "password", autocomplete: "off" }),
    ),
    h("button", { type: "submit" }, "Sign in"),
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      replace(status, "Signing in…");
      let secret: Uint8Array | undefined;
      try {
        secret = await secretFrom(form);
        // Signing in re-renders this page (main.ts), which then shows the signed-in view; a
        // household, or a reader sent here from an account, goes on to that account.
        const signedIn = await ctx.session.signIn(ctx.api, secret);
        const next = back ?? (signedIn.household ? to.address(signedIn.household) : undefined);
        // Only explorer routes: `back` comes from the URL.
        if (next?.startsWith("#/")) location.hash = next;
      } catch (e) {
        replace(status, errorBox(e));
      } finally {
        secret?.fill(0);
        form.reset();
      }
    })();
  });
  const current = ctx.session.current;
  return Promise.resolve(
    h(
      "div",
      {},
      pageTitle("Sign in"),
      h(
        "p",
        {},
        "Nodes may show a household's data only to the household, its utility's operator or an auditor. ",
        "Your key signs this node's one-time challenge here in the browser and is then discarded: ",
        "it is never sent or stored. The node returns a read-only session token, kept in this tab ",
        "until it expires, you sign out or you close the tab.",
      ),
      current ? signedInView(ctx) : null,
      current ? h("h2", {}, "Sign in with another key") : null,
      form,
      back?.startsWith("#/") ? h("p", {}, link(back, "Back")) : null,
    ),
  );
}

/**
 * What a page shows where the node kept household data back, with the way to sign in and come
 * back to `route`.
 */
export function restrictedPanel(session: Session, reason: string, route: string): HTMLElement {
  const current = session.current;
  return h(
    "aside",
    { class: "restricted", role: "note" },
    h("strong", {}, "Restricted. "),
    reason,
    " ",
    current
      ? h(
          "span",
          {},
          `You are signed in as ${short(current.address, 6)} (${rightsText(current)}), which may not read it. `,
          link(to.signIn(route), "Sign in with another key"),
          ".",
        )
      : h(
          "span",
          {},
          link(to.signIn(route), "Sign in"),
          " with the household's, its utility operator's or an auditor's key to see it.",
        ),
  );
}
