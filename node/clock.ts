// The node's wall clock, injected so that everything time-dependent (the proposer-based time
// rule, mempool expiry, block production) can be driven by tests and skewed in devnets.
// Time is Unix milliseconds as a bigint, the unit of block headers.

export interface Clock {
  now(): bigint;
}

export const systemClock: Clock = { now: () => BigInt(Date.now()) };

/**
 * A clock running `offsetMs` ahead of (or, negative, behind) `base`. For tests and devnets only:
 * it simulates a validator whose clock has drifted, to exercise the ±drift rule of DESIGN §5.
 */
export function offsetClock(base: Clock, offsetMs: bigint): Clock {
  return { now: () => base.now() + offsetMs };
}

/** A clock that moves only when told to; tests use it for expiry and the time rule. */
export class ManualClock implements Clock {
  constructor(private time: bigint) {}

  now(): bigint {
    return this.time;
  }

  set(time: bigint): void {
    this.time = time;
  }

  advance(ms: bigint): void {
    this.time += ms;
  }
}
