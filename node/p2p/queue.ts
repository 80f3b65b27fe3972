// A bounded work queue: at most `concurrency` jobs run and at most `capacity` wait. A job that
// finds the queue full is refused and counted, never buffered: a peer that floods us costs a
// counter, not memory.

export interface QueueLimits {
  /** Jobs waiting to run, beyond those running. */
  readonly capacity: number;
  /** Jobs running at once. */
  readonly concurrency: number;
}

export interface QueueStats {
  readonly queued: number;
  readonly running: number;
  readonly accepted: number;
  readonly dropped: number;
}

export class BoundedQueue<T> {
  readonly #waiting: T[] = [];
  #running = 0;
  #accepted = 0;
  #dropped = 0;
  #closed = false;

  /**
   * @param run does one job; a rejection is passed to `onError` and the queue carries on.
   */
  constructor(
    private readonly limits: QueueLimits,
    private readonly run: (job: T) => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {
    if (!(limits.capacity >= 0 && limits.concurrency >= 1)) {
      throw new RangeError("queue needs capacity >= 0 and concurrency >= 1");
    }
  }

  /** Starts or queues the job; false if the queue is full or closed (the job is dropped). */
  push(job: T): boolean {
    if (this.#closed) return false;
    if (this.#running < this.limits.concurrency) {
      this.#accepted++;
      this.#start(job);
      return true;
    }
    if (this.#waiting.length >= this.limits.capacity) {
      this.#dropped++;
      return false;
    }
    this.#accepted++;
    this.#waiting.push(job);
    return true;
  }

  stats(): QueueStats {
    return {
      queued: this.#waiting.length,
      running: this.#running,
      accepted: this.#accepted,
      dropped: this.#dropped,
    };
  }

  /** Refuses further jobs and forgets the waiting ones; running jobs finish on their own. */
  close(): void {
    this.#closed = true;
    this.#waiting.length = 0;
  }

  #start(job: T): void {
    this.#running++;
    // Through a promise, so a run that throws synchronously is caught like one that rejects.
    Promise.resolve(job)
      .then(this.run)
      .catch(this.onError)
      .finally(() => {
        this.#running--;
        const next = this.#waiting.shift();
        if (next !== undefined && !this.#closed) this.#start(next);
      });
  }
}

/** A counter of slots: `tryAcquire` refuses rather than waits when all slots are taken. */
export class Slots {
  #used = 0;
  constructor(readonly size: number) {}

  tryAcquire(): boolean {
    if (this.#used >= this.size) return false;
    this.#used++;
    return true;
  }

  release(): void {
    if (this.#used > 0) this.#used--;
  }

  get used(): number {
    return this.#used;
  }
}
