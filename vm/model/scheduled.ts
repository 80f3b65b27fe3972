// Values that change only for future periods (policies, baselines): the value in force plus a
// short list of changes, each from a period on. A period reads the last change at or before it;
// once the chain is in period k, changes from k or earlier can never be undone, so they fold
// into the value in force and the list stays short.
import { list, type Schema, struct, u64 } from "../../lib/codec.js";

/** At most this many future changes wait at once. */
export const MAX_PENDING = 4;

export type Pending<T> = Array<{ fromPeriod: bigint; value: T }>;

export function pendingSchema<T>(name: string, value: Schema<T>): Schema<Pending<T>> {
  return list(struct(name, { fromPeriod: u64, value }), MAX_PENDING);
}

/** The value for period k: the last pending change from k or earlier, else the value in force. */
export function valueForPeriod<T>(current: T, pending: Pending<T>, k: bigint): T {
  let value = current;
  for (const change of pending) if (change.fromPeriod <= k) value = change.value;
  return value;
}

/**
 * Folds the changes from `now` or earlier into the value in force and inserts `change` (which
 * replaces a change from the same period), keeping the list sorted by period. Returns undefined
 * when the list would be too long.
 */
export function schedule<T>(
  current: T,
  pending: Pending<T>,
  now: bigint | undefined,
  change: { fromPeriod: bigint; value: T },
): { current: T; pending: Pending<T> } | undefined {
  let folded = current;
  const kept: Pending<T> = [];
  for (const p of pending) {
    if (now !== undefined && p.fromPeriod <= now) folded = p.value;
    else if (p.fromPeriod !== change.fromPeriod) kept.push(p);
  }
  kept.push(change);
  kept.sort((a, b) => (a.fromPeriod < b.fromPeriod ? -1 : a.fromPeriod > b.fromPeriod ? 1 : 0));
  return kept.length > MAX_PENDING ? undefined : { current: folded, pending: kept };
}
