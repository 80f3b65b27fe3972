// Verifies many signatures at once (a block's transactions and votes, an oracle batch) on worker
// threads. Workers run the same verify functions as the calling thread, so a signature is
// accepted by the pool exactly when it is accepted inline. Jobs travel packed into one
// transferred buffer per chunk: structured-cloning a Buffer view would copy the whole buffer
// behind it (often an entire decoded block) once per field.
import { Worker } from "node:worker_threads";
import { type MeterKeyType, verifyMeter } from "./meter-key.js";

export interface VerifyJob {
  readonly scheme: MeterKeyType;
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface VerifyRequest {
  readonly id: number;
  readonly packed: ArrayBuffer;
}

export interface VerifyReply {
  readonly id: number;
  /** One byte per job: 1 valid, 0 not. */
  readonly results: Uint8Array;
}

export interface VerifyPoolOptions {
  /** The worker script; tests pass one that crashes. Defaults to verify-worker.js beside this. */
  readonly workerUrl?: URL;
  /** Told about each worker failure (the affected jobs are then verified inline). */
  readonly onWorkerError?: (error: Error) => void;
}

/** Small enough to balance two cores, large enough that messaging costs nothing (STACK-NOTES §3.2). */
const CHUNK_SIZE = 250;
/** After this many worker deaths in a row without a reply, stop spawning and verify inline. */
const MAX_CRASHES_WITHOUT_REPLY = 3;

const SCHEMES: readonly MeterKeyType[] = ["secp256k1", "p256"];
const NO_SCHEME = 0xff;
const FIELDS_PER_JOB = 4; // scheme code, then the lengths of key, message and signature

export function verifyJob(job: VerifyJob): boolean {
  return verifyMeter(job.scheme, job.publicKey, job.message, job.signature);
}

function isWellFormed(job: VerifyJob): boolean {
  return (
    job.publicKey instanceof Uint8Array &&
    job.message instanceof Uint8Array &&
    job.signature instanceof Uint8Array
  );
}

/** Layout: u32 count, u32 × 4 per job, then each job's key, message and signature bytes. */
export function packJobs(jobs: readonly VerifyJob[]): ArrayBuffer {
  const headerBytes = 4 * (1 + FIELDS_PER_JOB * jobs.length);
  let total = headerBytes;
  for (const job of jobs) {
    if (isWellFormed(job))
      total += job.publicKey.length + job.message.length + job.signature.length;
  }
  const buffer = new ArrayBuffer(total);
  const header = new Uint32Array(buffer, 0, headerBytes / 4);
  const body = new Uint8Array(buffer);
  header[0] = jobs.length;
  let offset = headerBytes;
  jobs.forEach((job, i) => {
    const at = 1 + FIELDS_PER_JOB * i;
    // A malformed job keeps no bytes and an impossible scheme, so the worker rejects it as
    // verifyMeter does inline (mapping a missing message to empty bytes could verify).
    const code = SCHEMES.indexOf(job.scheme);
    if (code < 0 || !isWellFormed(job)) {
      header[at] = NO_SCHEME;
      return;
    }
    header[at] = code;
    for (const [k, field] of [job.publicKey, job.message, job.signature].entries()) {
      header[at + 1 + k] = field.length;
      body.set(field, offset);
      offset += field.length;
    }
  });
  return buffer;
}

export function unpackJobs(buffer: ArrayBuffer): VerifyJob[] {
  const count = new Uint32Array(buffer, 0, 1)[0]!;
  const headerBytes = 4 * (1 + FIELDS_PER_JOB * count);
  const header = new Uint32Array(buffer, 0, headerBytes / 4);
  const jobs: VerifyJob[] = [];
  let offset = headerBytes;
  const take = (length: number): Uint8Array => {
    const view = new Uint8Array(buffer, offset, length);
    offset += length;
    return view;
  };
  for (let i = 0; i < count; i++) {
    const at = 1 + FIELDS_PER_JOB * i;
    const scheme = SCHEMES[header[at]!] ?? ("none" as MeterKeyType);
    const publicKey = take(header[at + 1]!);
    const message = take(header[at + 2]!);
    jobs.push({ scheme, publicKey, message, signature: take(header[at + 3]!) });
  }
  return jobs;
}

interface Task {
  readonly jobs: readonly VerifyJob[];
  readonly resolve: (results: boolean[]) => void;
}

interface Slot {
  worker: Worker | undefined;
  readonly tasks: Map<number, Task>;
}

const settleInline = (task: Task): void => task.resolve(task.jobs.map(verifyJob));

export class VerifyPool {
  /** Worker threads; 0 verifies inline on the calling thread. */
  readonly size: number;
  readonly #workerUrl: URL;
  readonly #onWorkerError: ((error: Error) => void) | undefined;
  readonly #slots: Slot[];
  #nextTaskId = 0;
  #crashesWithoutReply = 0;
  #closed: Promise<void> | undefined;

  constructor(size: number, options: VerifyPoolOptions = {}) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RangeError(`pool size must be a whole number ≥ 0, got ${size}`);
    }
    this.size = size;
    this.#workerUrl = options.workerUrl ?? new URL("./verify-worker.js", import.meta.url);
    this.#onWorkerError = options.onWorkerError;
    this.#slots = Array.from({ length: size }, () => ({ worker: undefined, tasks: new Map() }));
    for (const slot of this.#slots) this.#spawn(slot);
  }

  /** One boolean per job, in order. Rejects only after close(). */
  async verifyBatch(jobs: readonly VerifyJob[]): Promise<boolean[]> {
    if (this.#closed) throw new Error("VerifyPool is closed");
    if (this.size === 0 || jobs.length === 0) return jobs.map(verifyJob);
    const chunkSize = Math.min(CHUNK_SIZE, Math.ceil(jobs.length / this.size));
    const chunks: Promise<boolean[]>[] = [];
    for (let i = 0; i < jobs.length; i += chunkSize) {
      chunks.push(this.#dispatch(jobs.slice(i, i + chunkSize)));
    }
    return (await Promise.all(chunks)).flat();
  }

  /** Terminates the workers; jobs still in flight are finished inline. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= Promise.all(this.#slots.map((slot) => slot.worker?.terminate())).then(
      () => undefined,
    );
    return this.#closed;
  }

  #dispatch(jobs: readonly VerifyJob[]): Promise<boolean[]> {
    let slot = this.#slots[0]!;
    for (const candidate of this.#slots) {
      if (candidate.tasks.size < slot.tasks.size) slot = candidate;
    }
    const worker = slot.worker ?? this.#spawn(slot);
    if (!worker) return Promise.resolve(jobs.map(verifyJob));
    const id = this.#nextTaskId++;
    return new Promise((resolve) => {
      // Referenced only while it owes replies, so an idle pool never keeps the process alive
      // and a pending batch is never abandoned by an exiting process.
      if (slot.tasks.size === 0) worker.ref();
      slot.tasks.set(id, { jobs, resolve });
      const packed = packJobs(jobs);
      const request: VerifyRequest = { id, packed };
      worker.postMessage(request, [packed]);
    });
  }

  #spawn(slot: Slot): Worker | undefined {
    if (this.#crashesWithoutReply >= MAX_CRASHES_WITHOUT_REPLY) return undefined;
    let worker: Worker;
    try {
      worker = new Worker(this.#workerUrl);
    } catch (error) {
      this.#crashesWithoutReply++;
      this.#onWorkerError?.(error as Error);
      return undefined;
    }
    worker.unref();
    let reported = false;
    worker.on("message", (reply: VerifyReply) => this.#onReply(slot, worker, reply));
    // The "exit" that always follows settles the worker's tasks.
    worker.on("error", (error) => {
      reported = true;
      this.#onWorkerError?.(error);
    });
    worker.on("exit", (code) => {
      if (!reported && !this.#closed) {
        this.#onWorkerError?.(new Error(`verify worker exited with code ${code}`));
      }
      this.#onExit(slot, worker);
    });
    slot.worker = worker;
    return worker;
  }

  #onReply(slot: Slot, worker: Worker, reply: VerifyReply): void {
    const task = slot.tasks.get(reply.id);
    if (!task) return;
    slot.tasks.delete(reply.id);
    if (slot.tasks.size === 0) worker.unref();
    this.#crashesWithoutReply = 0;
    const { results } = reply;
    if (!(results instanceof Uint8Array) || results.length !== task.jobs.length) {
      settleInline(task);
      return;
    }
    task.resolve(Array.from(results, (r) => r === 1));
  }

  #onExit(slot: Slot, worker: Worker): void {
    if (slot.worker === worker) slot.worker = undefined;
    if (!this.#closed) this.#crashesWithoutReply++;
    const tasks = [...slot.tasks.values()];
    slot.tasks.clear();
    for (const task of tasks) settleInline(task);
  }
}
