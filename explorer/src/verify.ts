// "Verify": the reader checks an account's balance and its credits by vintage without trusting
// the node that served the page. The light client (rpc/client) does the checking; this module
// chooses the trust root and shows each step with what it compared.
//
// Trust root: a validator set the reader pins. By default it is the set that signed block 1,
// pinned on first use in this browser (localStorage) — the page says so, shows its hash, and
// takes a hash from the reader's genesis file instead.

import { to0x } from "../../lib/bytes.js";
import {
  genesisTrust,
  LightClient,
  type Proven,
  provenAccount,
  provenCredits,
  validatorSetFromJson,
  type WattcapClient,
} from "../../rpc/client/index.js";
import type { ResultOf } from "../../rpc/methods.js";
import { h, replace } from "./dom.js";
import { grouped, money } from "./format.js";

type Account = ResultOf<"account_get">;

export interface VerifyContext {
  readonly client: WattcapClient;
}

interface Step {
  readonly label: string;
  /** The failure codes that mean this step failed. */
  readonly fails: readonly string[];
}

const STEPS: readonly Step[] = [
  { label: "Fetch the state proof, its header, commit and validator set", fails: [] },
  {
    label: "The header's validator set is the pinned set, or follows from it by nextValidatorsHash",
    fails: ["UNTRUSTED_VALIDATOR_SET"],
  },
  {
    label: "The commit is for this header and more than 2/3 of that set signed it",
    fails: ["BAD_COMMIT"],
  },
  {
    label: "The Merkle proof leads from the key and value to the header's state root",
    fails: ["BAD_PROOF"],
  },
  { label: "The proven value equals the value this page shows", fails: ["VALUE_MISMATCH"] },
];

const TRUST_KEY = (chainId: string) => `wattcap.trustedSet.${chainId}`;

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

/** The step list for one proven read. */
function stepList<T>(title: string, result: Proven<T>, detail: (value: T) => string): HTMLElement {
  const failedAt = result.verified ? -1 : STEPS.findIndex((s) => s.fails.includes(result.code));
  const items = STEPS.map((step, i) => {
    let state: "ok" | "bad" | "skip";
    if (result.verified || failedAt === -1)
      state = result.verified ? "ok" : i === 0 ? "bad" : "skip";
    else state = i < failedAt ? "ok" : i === failedAt ? "bad" : "skip";
    const mark = state === "ok" ? "✔" : state === "bad" ? "✘" : "–";
    const note =
      state === "bad" && !result.verified
        ? ` — ${result.code}: ${result.message}`
        : state === "ok" && result.verified && i === 2
          ? ` — ${result.signers} of ${result.setSize} signatures, block ${result.height}`
          : state === "ok" && result.verified && i === 3
            ? ` — state root ${to0x(result.header.stateRoot)}`
            : "";
    return h(
      "li",
      { class: `step ${state}` },
      h("span", { class: "mark", "aria-hidden": "true" }, mark),
      ` ${step.label}${note}`,
    );
  });
  const verdict = result.verified
    ? h("p", { class: "verdict ok" }, `Verified: ${detail(result.value as T)}`)
    : h("p", { class: "verdict bad", role: "alert" }, `Not verified (${result.code}).`);
  return h(
    "div",
    { class: "verify-result" },
    h("h3", {}, title),
    h("ol", { class: "steps" }, ...items),
    verdict,
  );
}

/** The pinned set's light client: pins the set of block 1 on first use. */
async function lightClient(
  client: WattcapClient,
  pinnedHash: string | undefined,
): Promise<{ light: LightClient; hash: string; source: string }> {
  const status = await client.call("chain_status", {});
  const genesisSet = await client.call("chain_getValidators", { height: "1" });
  const stored = storage()?.getItem(TRUST_KEY(status.chainId)) ?? undefined;
  const wanted = pinnedHash ?? stored;
  if (wanted !== undefined && wanted.toLowerCase() !== genesisSet.validatorsHash.toLowerCase()) {
    throw new Error(
      `this node's block-1 validator set ${genesisSet.validatorsHash} is not the pinned set ${wanted}`,
    );
  }
  if (wanted === undefined)
    storage()?.setItem(TRUST_KEY(status.chainId), genesisSet.validatorsHash);
  const source = pinnedHash
    ? "entered by you"
    : stored
      ? "pinned earlier in this browser"
      : "pinned now, on first use";
  const validators = validatorSetFromJson(genesisSet.validators);
  const light = new LightClient(genesisTrust(status.chainId, validators), client.headerSource());
  return { light, hash: genesisSet.validatorsHash, source };
}

/** The Verify section of an account page. */
export function verifyPanel(ctx: VerifyContext, address: string, account: Account): HTMLElement {
  const out = h("div", { class: "verify-out", "aria-live": "polite" });
  const input = h("input", {
    id: "trust-hash",
    type: "text",
    inputmode: "latin",
    spellcheck: "false",
    placeholder: "0x… validator set hash from your genesis (optional)",
    pattern: "^0x[0-9a-fA-F]{64}$",
  });
  const button = h("button", { type: "button", class: "verify" }, "Verify balance and credits");
  button.addEventListener("click", async () => {
    button.disabled = true;
    replace(out, h("p", {}, "Verifying…"));
    try {
      const pinned = /^0x[0-9a-fA-F]{64}$/.test(input.value.trim())
        ? input.value.trim()
        : undefined;
      const { light, hash, source } = await lightClient(ctx.client, pinned);
      const results: HTMLElement[] = [
        h("p", { class: "trust" }, `Trusted validator set ${hash} (${source}).`),
      ];
      const proven = await provenAccount(ctx.client, light, address, account);
      results.push(
        stepList(
          "Account",
          proven,
          (a) => `balance ${money(a.balance.toString())}, nonce ${a.nonce}`,
        ),
      );
      for (const c of account.credits) {
        const credits = await provenCredits(ctx.client, light, address, BigInt(c.vintage), c);
        results.push(
          stepList(
            `Credits of vintage ${c.vintage}`,
            credits,
            (v) => `${grouped(v.amount.toString())} Wh, ${grouped(v.locked.toString())} locked`,
          ),
        );
      }
      replace(out, ...results);
    } catch (e) {
      replace(
        out,
        h(
          "p",
          { class: "verdict bad", role: "alert" },
          `Not verified: ${e instanceof Error ? e.message : String(e)}`,
        ),
      );
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "verify-panel" },
    h("h3", {}, "Verify"),
    h(
      "p",
      {},
      "Checks these values against a block header signed by more than 2/3 of a validator set you trust, in this browser.",
    ),
    h("label", { for: "trust-hash" }, "Trusted validator set hash"),
    input,
    button,
    out,
  );
}
