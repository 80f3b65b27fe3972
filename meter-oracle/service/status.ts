// `wattcap oracle status` (docs/oracle.md "Status"): the backlog, the last reading submitted and
// confirmed per meter, and the chain's rejections by code. Read from the outbox, which works
// while the service is stopped; while it runs it holds the outbox's lock, so the status comes
// from its HTTP endpoint (GET /status) instead, built by the same function.
import { toHex } from "../../lib/bytes.js";
import { StoreError } from "../../state/errors.js";
import type { OracleConfig } from "./config.js";
import {
  type MeterSummary,
  Outbox,
  type OutboxCounters,
  type PendingTx,
  type Rejection,
} from "./outbox.js";

/** The rejections a status lists (the counters cover all of them). */
export const STATUS_REJECTIONS = 100;

export interface OracleStatus {
  readonly source: "outbox" | "service";
  readonly chainId: string;
  /** Readings queued or submitted and not yet settled. */
  readonly backlog: number;
  /** The transactions in flight, in nonce order. */
  readonly inFlight: readonly {
    readonly id: string;
    readonly nonce: string;
    readonly readings: number;
  }[];
  readonly counters: OutboxCounters;
  readonly meters: readonly (MeterSummary & { readonly configured: boolean })[];
  readonly rejections: readonly Rejection[];
  /** The service's last fault or refusal (only from a running service). */
  readonly lastFault: string | null;
}

export async function statusOf(
  outbox: Outbox,
  config: OracleConfig,
  extra: { source: OracleStatus["source"]; lastFault?: string | undefined },
): Promise<OracleStatus> {
  const inFlight = await outbox.pending();
  const configured = new Set(config.meters.map((m) => toHex(m.meterIdHash)));
  return {
    source: extra.source,
    chainId: config.chainId,
    backlog: outbox.backlog(),
    inFlight: inFlight.map(summarise),
    counters: outbox.counters(),
    meters: outbox.meters().map((m) => ({ ...m, configured: configured.has(m.meterIdHash) })),
    rejections: await outbox.rejections(STATUS_REJECTIONS),
    lastFault: extra.lastFault ?? null,
  };
}

function summarise(tx: PendingTx) {
  return { id: tx.id, nonce: String(tx.nonce), readings: tx.readings.length };
}

export type StatusErrorCode = "NO_OUTBOX" | "RUNNING_NO_HTTP" | "UNREACHABLE";

export class StatusError extends Error {
  override name = "StatusError";
  constructor(
    readonly code: StatusErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The status from the outbox if it is free, else from the running service's endpoint. */
export async function readStatus(config: OracleConfig): Promise<OracleStatus> {
  let outbox: Outbox;
  try {
    outbox = await Outbox.open(config.outboxDir, { create: false });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.code === "NOT_FOUND") {
      throw new StatusError("NO_OUTBOX", `no outbox at ${config.outboxDir}: the oracle never ran`);
    }
    if (error.code !== "LOCKED") throw error;
    return fetchStatus(config);
  }
  try {
    return await statusOf(outbox, config, { source: "outbox" });
  } finally {
    await outbox.close();
  }
}

async function fetchStatus(config: OracleConfig): Promise<OracleStatus> {
  if (config.http === undefined) {
    throw new StatusError(
      "RUNNING_NO_HTTP",
      "the oracle service holds the outbox and serves no status endpoint (set http in the config)",
    );
  }
  const host = config.http.host === "0.0.0.0" ? "127.0.0.1" : config.http.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.http.port}/status`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return (await response.json()) as OracleStatus;
  } catch (error) {
    throw new StatusError(
      "UNREACHABLE",
      `the outbox is locked and ${url} did not answer: ${(error as Error).message}`,
    );
  }
}

/** The status as text for a terminal. */
export function formatStatus(status: OracleStatus): string {
  const c = status.counters;
  const lines = [
    `chain:       ${status.chainId} (from the ${status.source === "service" ? "running service" : "outbox"})`,
    `backlog:     ${status.backlog} reading(s) not yet settled`,
    `in flight:   ${status.inFlight.length === 0 ? "none" : `${status.inFlight.length} transaction(s)`}`,
    ...status.inFlight.map((tx) => `  ${tx.id} nonce ${tx.nonce}, ${tx.readings} reading(s)`),
    `readings:    ${c.read} read, ${c.submitted} submitted, ${c.confirmed} confirmed (${c.duplicates} already on chain), ${total(c.rejected)} rejected`,
  ];
  if (status.lastFault) lines.push(`last fault:  ${status.lastFault}`);
  const codes = Object.entries(c.rejected);
  if (codes.length > 0) {
    lines.push("rejections by code:");
    for (const [code, n] of codes) lines.push(`  ${code.padEnd(32)} ${n}`);
  }
  lines.push("meters:");
  for (const m of status.meters) {
    const last = m.lastSubmitted
      ? `${iso(m.lastSubmitted.time)} in ${m.lastSubmitted.tx.slice(0, 12)}…`
      : "none";
    lines.push(
      `  ${m.meterId}${m.configured ? "" : " (not in config)"}: last submitted ${last}; last confirmed ${m.lastConfirmed ? iso(m.lastConfirmed) : "none"}; queued ${m.queued}, submitted ${m.submitted}, confirmed ${m.confirmed}, rejected ${m.rejected}`,
    );
  }
  if (status.rejections.length > 0) {
    lines.push(`rejected readings (first ${status.rejections.length}):`);
    const names = new Map(status.meters.map((m) => [m.meterIdHash, m.meterId]));
    for (const r of status.rejections) {
      lines.push(
        `  ${names.get(r.meterIdHash) ?? r.meterIdHash} ${iso(r.time)} ${r.code} (tx ${r.tx.slice(0, 12)}…, height ${r.height})`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function iso(ms: string): string {
  const n = Number(ms);
  return Number.isSafeInteger(n) ? new Date(n).toISOString() : ms;
}
