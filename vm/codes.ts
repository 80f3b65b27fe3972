// Every reason the chain gives for refusing a transaction or a reading (DESIGN.md §4 "Failed
// transactions", §6). Codes are part of the protocol: receipts carry them, wallets and oracles
// branch on them, so a code is never renamed or reused once released. docs/reject-codes.md
// documents exactly this table; test/vm/codes.test.ts keeps the two equal.
//
// Levels:
// - block: a stateless fault (encoding, chain id, signature, nonce, type, payload shape). Such a
//   transaction never enters the mempool, and a block containing it is invalid.
// - tx: a state rule. The transaction is included, uses its nonce, its writes are dropped, and its
//   receipt carries the code.
// - reading: one reading of an oracle batch; the rest of the batch still applies.

export type RejectLevel = "block" | "tx" | "reading";

interface CodeInfo {
  readonly level: RejectLevel;
  readonly meaning: string;
}

const block = (meaning: string): CodeInfo => ({ level: "block", meaning });
const tx = (meaning: string): CodeInfo => ({ level: "tx", meaning });
const reading = (meaning: string): CodeInfo => ({ level: "reading", meaning });

export const REJECT_CODES = {
  // Stateless: the block is invalid.
  TX_MALFORMED: block("the signed transaction is not the canonical encoding of its schema"),
  TX_TOO_LARGE: block("the signed transaction is over the size limit"),
  WRONG_CHAIN_ID: block("the transaction is signed for another chain"),
  BAD_SIGNER_KEY: block("the signer's public key is not a valid compressed secp256k1 key"),
  BAD_SIGNATURE: block("the signature does not verify against the signer's key"),
  UNKNOWN_TX_TYPE: block("the type number is not one this chain's rules execute"),
  PAYLOAD_MALFORMED: block("the payload is not the canonical encoding of its type's schema"),
  NONCE_TOO_LOW: block("the nonce was already used by the signer's account"),
  NONCE_TOO_HIGH: block("the nonce leaves a gap after the signer's account nonce"),

  // Authorisation.
  NOT_AUTHORISED: tx("the signer does not hold the role this transaction needs"),

  // Governance.
  UNKNOWN_PROPOSAL: tx("no open governance proposal has this id"),
  PROPOSAL_EXPIRED: tx("the proposal's approval period has ended"),
  ALREADY_APPROVED: tx("the signer's utility has already approved the proposal"),
  UNKNOWN_VALIDATOR: tx("no validator has this address"),
  VALIDATOR_EXISTS: tx("a validator with this address is already in the set"),
  BAD_VALIDATOR_KEY: tx("the validator key is invalid or its address does not match it"),
  VALIDATOR_SET_RULE: tx("the change would break a validator-set rule (size, 1/3 per utility)"),
  VALIDATOR_QUEUE_FULL: tx("too many validator-set changes are already waiting"),
  UPGRADE_HEIGHT_PASSED: tx("the upgrade height is not after the current and scheduled ones"),
  UPGRADE_VERSION_NOT_NEWER: tx("the upgrade version is not above the latest scheduled one"),

  // Utilities.
  BAD_UTILITY_ID: tx("a utility id is 1-32 characters of a-z, 0-9 and '-', starting alphanumeric"),
  UNKNOWN_UTILITY: tx("no active utility has this id"),
  UTILITY_EXISTS: tx("a utility with this id exists or existed"),
  UTILITY_IN_USE: tx("the utility still has active households, validators or a balance"),
  OPERATOR_IN_USE: tx("the address already operates a utility"),
  OPERATOR_MISMATCH: tx("a validator must name its utility's operator account"),
  POLICY_INVALID: tx("the policy's values are out of range or inconsistent"),
  NOTICE_PERIOD: tx("the period starts sooner than the notice period after this block"),
  TOO_MANY_PENDING: tx("too many future changes of this kind are already scheduled"),

  // Households, meters and keys.
  HOUSEHOLD_EXISTS: tx("a household with this address is already registered"),
  UNKNOWN_HOUSEHOLD: tx("no household has this address"),
  HOUSEHOLD_CLOSED: tx("the household's account is closed"),
  KEY_IN_USE: tx("the address is already a household's address or key"),
  METER_EXISTS: tx("a household already has a meter with this id"),
  BAD_METER_KEY: tx("the meter key is not a valid key of its type"),
  BASELINE_PERIOD_STARTED: tx("baselines can change only for periods that have not started"),
  CAP_PERIOD_STARTED: tx("an explicit cap can be set only before its period starts"),
  KEY_ROTATION_PENDING: tx("a key rotation is already waiting for this household"),
  NO_KEY_ROTATION: tx("no key rotation is waiting for this household"),
  KEY_ROTATION_TOO_EARLY: tx("the key rotation's waiting period has not passed"),
  BAD_APP_KEY: tx("an app key must differ from the household's own key"),

  // Oracles.
  ORACLE_EXISTS: tx("the oracle is already registered"),
  UNKNOWN_ORACLE: tx("no oracle has this address"),
  ORACLE_REVOKED: tx("the oracle is already revoked"),

  // Money.
  BAD_AMOUNT: tx("the amount is zero or would overflow a balance or total"),
  DUPLICATE_REFERENCE: tx("the utility already used this external reference"),
  UNKNOWN_REFERENCE: tx("the utility has no bill record with this external reference"),
  ALREADY_REVERSED: tx("the bill record was already reversed"),

  // Readings: a batch is refused whole only for transaction-level faults.
  BATCH_TOO_LARGE: tx("the batch holds more readings than the chain allows"),
  READING_UNKNOWN_METER: reading("no household has a meter with this id"),
  READING_ORACLE_NOT_AUTHORISED: reading("the oracle is not one of the meter's utility"),
  READING_BAD_SIGNATURE: reading("the meter signature is missing or does not verify"),
  READING_REGISTER_COUNT: reading("the reading's register count is not the meter's"),
  READING_NOT_AFTER_LAST: reading("the reading's time is not after the meter's last reading"),
  READING_BEYOND_DRIFT: reading("the reading's time is too far after the block time"),
  READING_TOO_FREQUENT: reading("the meter already has a reading in this interval"),
  READING_NOT_MONOTONIC: reading("a register is below its value in the meter's last reading"),
  READING_PERIOD_FINALISED: reading("the reading falls in a period that is already final"),
  READING_OUT_OF_RANGE: reading("a register is at or above 2^48 Wh, beyond any real meter"),
  METER_REPLACEMENT_MISMATCH: tx("the new meter's first reading is not at the old one's final"),
  PERIOD_NOT_SETTLED: tx("the household has no settlement for this period to correct"),

  // Markets and credits.
  MARKET_CLOSED: tx("the chain's market mode takes no orders"),
  OUTSIDE_WINDOW: tx("no trading window is open for these credits"),
  PRICE_OUT_OF_BAND: tx("the price is outside [floorPrice, penaltyPrice]"),
  BAD_QUANTITY: tx("the quantity is zero or too large"),
  BAD_EXPIRY: tx("the expiry is not after the block time"),
  UNKNOWN_ORDER: tx("the household has no open order with this id"),
  INSUFFICIENT_CREDITS: tx("the household has too few free credits"),
  INSUFFICIENT_FUNDS: tx("the buy exceeds the balance less locked money plus the credit limit"),
  HOLDING_LIMIT: tx("the buy would take the household over the holding limit"),
  IN_ARREARS: tx("the household is in arrears (balance below minus its credit limit): no new buys"),
  SELF_TRADE: tx("the household has open orders on the other side"),
  TOO_MANY_ORDERS: tx("the household already has the most open orders one household may have"),
  CROSS_UTILITY: tx("the counterparty is a household of another utility"),
} as const satisfies Record<string, CodeInfo>;

export type RejectCode = keyof typeof REJECT_CODES;

export function isRejectCode(value: unknown): value is RejectCode {
  return typeof value === "string" && Object.hasOwn(REJECT_CODES, value);
}

export function rejectLevel(code: RejectCode): RejectLevel {
  return REJECT_CODES[code].level;
}

/**
 * Thrown by a handler to refuse a transaction under a state rule; the only exception the block
 * loop turns into a receipt. Anything else a handler throws is a bug and fails the block.
 */
export class Reject extends Error {
  override name = "Reject";
  constructor(
    readonly code: RejectCode,
    detail?: string,
  ) {
    super(detail === undefined ? code : `${code}: ${detail}`);
  }
}

export function reject(code: RejectCode, detail?: string): never {
  throw new Reject(code, detail);
}
