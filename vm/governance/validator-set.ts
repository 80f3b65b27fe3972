// The validator set over heights (DESIGN.md §5). A change decided in block H takes effect at
// H+2, and governance changes take one height each: they wait in a queue, and the end of every
// block moves at most one of them into the schedule. Evidence of equivocation removes the
// offender at H+2 too, even below the set's minimum size, since keeping an equivocator is worse;
// only an empty set is never produced.
import { AddressError, addressOf } from "../../lib/address.js";
import { compareBytes, equalBytes } from "../../lib/bytes.js";
import { checkValidatorSet, type Validator } from "../../lib/validator.js";
import type { RejectCode } from "../codes.js";
import { reject } from "../codes.js";
import type { ExecutionContext, StateView } from "../context.js";
import {
  MAX_QUEUED_CHANGES,
  type ValidatorChange,
  type ValidatorSchedule,
} from "../model/validators.js";
import { tables } from "../tables.js";
import type { EndBlockJob } from "../tx/registry.js";

/** The set in force at `height`: the last scheduled set whose first height is at or below it. */
export function setAt(schedule: ValidatorSchedule, height: bigint): Validator[] {
  let set = schedule.sets[0]?.validators;
  for (const entry of schedule.sets) if (entry.fromHeight <= height) set = entry.validators;
  if (!set) throw new Error("the validator schedule is empty");
  return set;
}

/** The set after every scheduled set and queued change: what a new change must fit. */
export function projectedSet(schedule: ValidatorSchedule): Validator[] {
  let set = schedule.sets[schedule.sets.length - 1]?.validators ?? [];
  for (const change of schedule.queue) {
    const next = applyChange(set, change);
    if (Array.isArray(next)) set = next;
  }
  return set;
}

function sorted(set: Validator[]): Validator[] {
  return set.sort((a, b) => compareBytes(a.address, b.address));
}

function has(set: readonly Validator[], address: Uint8Array): boolean {
  return set.some((v) => equalBytes(v.address, address));
}

function checked(set: Validator[]): Validator[] | RejectCode {
  const check = checkValidatorSet(set);
  if (check.ok) return set;
  switch (check.code) {
    case "BAD_PUBLIC_KEY":
    case "ADDRESS_MISMATCH":
      return "BAD_VALIDATOR_KEY";
    case "OPERATOR_MISMATCH":
      return "OPERATOR_MISMATCH";
    default:
      return "VALIDATOR_SET_RULE";
  }
}

/** The set after `change`, sorted and checked against the set rules, or why it cannot be. */
export function applyChange(
  set: readonly Validator[],
  change: ValidatorChange,
): Validator[] | RejectCode {
  switch (change.kind) {
    case "add": {
      if (has(set, change.value.validator.address)) return "VALIDATOR_EXISTS";
      return checked(sorted([...set, change.value.validator]));
    }
    case "remove": {
      if (!has(set, change.value.address)) return "UNKNOWN_VALIDATOR";
      return checked(set.filter((v) => !equalBytes(v.address, change.value.address)));
    }
    case "rotateKey": {
      const { address, publicKey } = change.value;
      if (!has(set, address)) return "UNKNOWN_VALIDATOR";
      let newAddress: Uint8Array;
      try {
        newAddress = addressOf(publicKey);
      } catch (e) {
        if (e instanceof AddressError) return "BAD_VALIDATOR_KEY";
        throw e;
      }
      if (has(set, newAddress)) return "VALIDATOR_EXISTS";
      return checked(
        sorted(
          set.map((v) =>
            equalBytes(v.address, address) ? { ...v, address: newAddress, publicKey } : v,
          ),
        ),
      );
    }
    case "rotateOperator": {
      const { utility, operator } = change.value;
      return checked(set.map((v) => (v.utility === utility ? { ...v, operator } : v)));
    }
  }
}

export function readSchedule(view: StateView): ValidatorSchedule {
  return view.one(tables.validators);
}

/** Checks a change against the projected set and queues it for a height of its own. */
export function queueChange(ctx: ExecutionContext, change: ValidatorChange): void {
  const schedule = readSchedule(ctx);
  if (schedule.queue.length >= MAX_QUEUED_CHANGES) reject("VALIDATOR_QUEUE_FULL");
  const next = applyChange(projectedSet(schedule), change);
  if (!Array.isArray(next)) reject(next);
  ctx.putOne(tables.validators, { ...schedule, queue: [...schedule.queue, change] });
  ctx.emit({ kind: "validatorChangeQueued", value: { change } });
}

/** Whether the change would pass against the projected set; throws its Reject if not. */
export function checkChange(view: StateView, change: ValidatorChange): void {
  const next = applyChange(projectedSet(readSchedule(view)), change);
  if (!Array.isArray(next)) reject(next);
}

/**
 * End of block H: removes this block's equivocators and takes the next queued change, schedules
 * the resulting set from H+2, and forgets sets no height from H+1 on will use.
 */
export const validatorSetJob: EndBlockJob = {
  name: "validator-set",
  run(ctx) {
    const schedule = readSchedule(ctx);
    const height = ctx.block.height;
    const fromHeight = height + 2n;
    let set = schedule.sets[schedule.sets.length - 1]?.validators ?? [];
    const changes: ValidatorChange[] = [];

    for (const evidence of ctx.env.evidence) {
      const offender = evidence.value.voteA.vote.validator;
      if (!has(set, offender) || set.length === 1) continue;
      set = set.filter((v) => !equalBytes(v.address, offender));
      changes.push({ kind: "remove", value: { address: offender } });
      ctx.emit({ kind: "equivocatorRemoved", value: { validator: offender, fromHeight } });
    }

    const [next, ...queue] = schedule.queue;
    if (next) {
      const result = applyChange(set, next);
      if (Array.isArray(result)) {
        set = result;
        changes.push(next);
        ctx.emit({
          kind: "validatorSetScheduled",
          value: { fromHeight, size: result.length, change: next },
        });
      } else {
        ctx.emit({ kind: "validatorChangeDropped", value: { change: next } });
      }
    }

    // Sets that start after H+1 are all still ahead; of the others only the last still counts.
    const inForceNext = schedule.sets.filter((s) => s.fromHeight <= height + 1n).length - 1;
    const sets = schedule.sets.slice(Math.max(0, inForceNext));
    if (changes.length > 0) {
      sets.push({ fromHeight, validators: set });
      ctx.env.validatorUpdate = { fromHeight, validators: set, changes };
    }
    if (next || sets.length !== schedule.sets.length) {
      ctx.putOne(tables.validators, { sets, queue: next ? queue : schedule.queue });
    }
  },
};
