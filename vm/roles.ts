// Who may sign what (DESIGN.md §2): the operator account of a utility acts for that utility, a
// household's current key for that household, a registered oracle for its utility. These are
// the building blocks of the handlers' authorise checks and of their ownership checks.
import { equalBytes } from "../lib/bytes.js";
import { type RejectCode, reject } from "./codes.js";
import type { StateView } from "./context.js";
import type { Household } from "./model/household.js";
import type { Utility } from "./model/utility.js";
import { tables } from "./tables.js";

/** The active utility `address` operates, if any. */
export function operatedUtility(view: StateView, address: Uint8Array): Utility | undefined {
  const id = view.get(tables.operator, address);
  const utility = id === undefined ? undefined : view.get(tables.utility, id);
  return utility?.status === "active" ? utility : undefined;
}

/** authorise for transactions only a utility's operator may send. */
export function authoriseOperator(view: StateView, tx: { signer: Uint8Array }) {
  return operatedUtility(view, tx.signer) ? undefined : ("NOT_AUTHORISED" satisfies RejectCode);
}

/** The signer's utility, in a handler whose authorise was authoriseOperator. */
export function signerUtility(view: StateView, signer: Uint8Array): Utility {
  return operatedUtility(view, signer) ?? reject("NOT_AUTHORISED");
}

/** A household of `utility`: another utility's household is not its to manage. */
export function householdOf(view: StateView, utility: Utility, address: Uint8Array): Household {
  const household = view.need(tables.household, address, "UNKNOWN_HOUSEHOLD");
  if (household.utility !== utility.id) reject("NOT_AUTHORISED", "another utility's household");
  return household;
}

/** As householdOf, for actions a closed account no longer allows. */
export function activeHouseholdOf(
  view: StateView,
  utility: Utility,
  address: Uint8Array,
): Household {
  const household = householdOf(view, utility, address);
  if (household.status !== "active") reject("HOUSEHOLD_CLOSED");
  return household;
}

/** The active household whose current key is `signer`, if any. */
export function householdSignedBy(view: StateView, signer: Uint8Array): Household | undefined {
  const address = view.get(tables.householdKey, signer);
  const household = address === undefined ? undefined : view.get(tables.household, address);
  return household?.status === "active" && equalBytes(household.key, signer)
    ? household
    : undefined;
}

/** authorise for transactions a household signs with its own key. */
export function authoriseHousehold(view: StateView, tx: { signer: Uint8Array }) {
  return householdSignedBy(view, tx.signer) ? undefined : ("NOT_AUTHORISED" satisfies RejectCode);
}

/** Whether an address is taken as a household's identity or as a household's signing key. */
export function isHouseholdAddressInUse(view: StateView, address: Uint8Array): boolean {
  return (
    view.get(tables.household, address) !== undefined ||
    view.get(tables.householdKey, address) !== undefined
  );
}
