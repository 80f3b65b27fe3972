// Green Button ESPI reader: an Atom feed whose entries carry UsagePoint, MeterReading,
// ReadingType and IntervalBlock resources (NAESB REQ.21). It streams: the SAX parser gets the
// file chunk by chunk and each IntervalReading is handed on as soon as it closes, so memory
// holds one chunk and the feed's small metadata, never a year of readings.
//
// Rules (docs/meter-data.md): timePeriod.start is unix seconds UTC, timePeriod.duration is
// seconds (the ReadingType's intervalLength when absent); energy is value × 10^powerOfTenMultiplier
// in the ReadingType's uom, and only uom 72 (Wh) of forward (flowDirection 1) delta data
// (accumulationBehaviour 4) is usable; other series are reported as skipped, never converted.
import { SaxesParser, type SaxesTagNS } from "saxes";
import { scaledWh, WhCarry } from "./decimal.js";
import { type ChunkSource, type IntervalReading, MeterDataError, textChunks } from "./interval.js";

const ATOM = "http://www.w3.org/2005/Atom";
const ESPI = "http://naesb.org/espi";

/** ESPI UnitSymbolKind 72: watt-hours. */
export const UOM_WH = 72;
/** ESPI AccumulationKind 4: deltaData, the energy of each interval. */
export const ACCUMULATION_DELTA = 4;
/** ESPI FlowDirectionKind 1: forward, energy delivered to the customer. */
export const FLOW_FORWARD = 1;

export interface EspiReadingType {
  /** The ReadingType entry's self link (the key MeterReadings refer to it by). */
  readonly href: string;
  readonly uom: number;
  readonly powerOfTenMultiplier: number;
  readonly intervalLengthSec: bigint | undefined;
  readonly accumulationBehaviour: number | undefined;
  readonly flowDirection: number | undefined;
}

export type EspiEvent =
  | { readonly kind: "usage-point"; readonly href: string; readonly title: string }
  | {
      readonly kind: "local-time";
      readonly href: string;
      /** Standard time minus UTC, seconds (−28800 for US Pacific). */
      readonly tzOffsetSec: bigint;
      readonly dstOffsetSec: bigint | undefined;
    }
  | { readonly kind: "reading-type"; readonly readingType: EspiReadingType }
  | {
      readonly kind: "block-skipped";
      readonly meterReading: string;
      readonly code: "UNSUPPORTED_UOM" | "UNSUPPORTED_READING_TYPE";
      readonly reason: string;
    }
  | {
      readonly kind: "interval";
      /** The MeterReading entry's self link, or "" when the feed has a single ReadingType. */
      readonly meterReading: string;
      readonly readingType: EspiReadingType;
      readonly interval: IntervalReading;
    };

export interface EspiOptions {
  /** Shown in error messages. */
  readonly fileName?: string;
}

/**
 * Every usable interval of an ESPI feed, and what the feed says about itself, in document
 * order. Throws MeterDataError: MALFORMED_XML, BAD_ESPI, AMBIGUOUS_SERIES, BAD_INTERVALS,
 * BAD_DECIMAL, BAD_ENCODING. Events before the fault are delivered first.
 */
export async function* readEspi(
  source: ChunkSource,
  options: EspiOptions = {},
): AsyncGenerator<EspiEvent> {
  const feed = new FeedParser(options.fileName);
  for await (const text of textChunks(source)) {
    feed.write(text);
    yield* feed.drain();
  }
  feed.close();
  yield* feed.drain();
}

/**
 * The intervals of a feed with exactly one usable series, the common Green Button download.
 * Stricter than readEspi: a skipped block throws its code, and a second series throws
 * AMBIGUOUS_SERIES.
 */
export async function* espiIntervals(
  source: ChunkSource,
  options: EspiOptions = {},
): AsyncGenerator<IntervalReading> {
  let series: string | undefined;
  for await (const event of readEspi(source, options)) {
    if (event.kind === "block-skipped") throw new MeterDataError(event.code, event.reason);
    if (event.kind !== "interval") continue;
    const key = seriesKey(event.meterReading, event.readingType);
    series ??= key;
    if (key !== series) {
      throw new MeterDataError("AMBIGUOUS_SERIES", `feed has more than one series: ${key}`);
    }
    yield event.interval;
  }
}

function seriesKey(meterReading: string, readingType: EspiReadingType): string {
  return `${meterReading} ${readingType.href}`;
}

// What an open element is to the parser; decided once, when it opens.
type Role =
  | "root"
  | "entry"
  | "entry-title"
  | "content"
  | "resource"
  | "field"
  | "block"
  | "reading"
  | "time-period"
  | "reading-start"
  | "reading-duration"
  | "reading-value"
  | "other";

interface Frame {
  readonly role: Role;
  readonly local: string;
}

interface Entry {
  self: string | undefined;
  up: string | undefined;
  readonly related: string[];
  title: string | undefined;
  resource: string | undefined;
  readonly fields: Map<string, string>;
}

interface Series {
  readonly meterReading: string;
  readonly readingType: EspiReadingType;
  readonly carry: WhCarry;
  lastEnd: bigint | undefined;
}

// A block is either read into a series or skipped whole.
type Block = { readonly series: Series } | { readonly skipped: true };

interface PendingReading {
  start: string | undefined;
  duration: string | undefined;
  value: string | undefined;
}

// Longest text kept for one field; ESPI fields are numbers and short titles.
const MAX_FIELD_TEXT = 4096;

class FeedParser {
  private readonly parser: SaxesParser<{ xmlns: true; fileName: string | undefined }>;
  private readonly where: string;
  private readonly stack: Frame[] = [];
  private queue: (EspiEvent | MeterDataError)[] = [];
  private failed = false;
  private text = "";
  private collecting = false;
  private entry: Entry | undefined;
  private block: Block | undefined;
  private reading: PendingReading | undefined;
  private readonly readingTypes = new Map<string, EspiReadingType>();
  private readonly meterReadings: { readonly self: string; readonly related: string[] }[] = [];
  private readonly series = new Map<string, Series>();

  constructor(fileName: string | undefined) {
    this.where = fileName ?? "ESPI feed";
    this.parser = new SaxesParser({ xmlns: true, fileName });
    this.parser.on("error", (err) => this.fail(new MeterDataError("MALFORMED_XML", err.message)));
    this.parser.on("opentag", (tag) => this.guard(() => this.open(tag)));
    this.parser.on("closetag", () => this.guard(() => this.closeElement()));
    this.parser.on("text", (text) => this.guard(() => this.addText(text)));
    this.parser.on("cdata", (text) => this.guard(() => this.addText(text)));
  }

  write(text: string): void {
    if (!this.failed) this.parser.write(text);
  }

  close(): void {
    if (!this.failed) this.parser.close();
  }

  /** Events so far; throws at the first fault, after the events that preceded it. */
  *drain(): Generator<EspiEvent> {
    const items = this.queue;
    this.queue = [];
    for (const item of items) {
      if (item instanceof MeterDataError) throw item;
      yield item;
    }
  }

  private guard(step: () => void): void {
    if (this.failed) return;
    try {
      step();
    } catch (err) {
      if (!(err instanceof MeterDataError)) throw err;
      this.fail(err);
    }
  }

  private fail(err: MeterDataError): void {
    if (this.failed) return;
    this.failed = true;
    this.queue.push(err);
  }

  private bad(message: string): MeterDataError {
    return new MeterDataError("BAD_ESPI", `${this.where}:${this.parser.line}: ${message}`);
  }

  private addText(text: string): void {
    if (!this.collecting) return;
    this.text += text;
    if (this.text.length > MAX_FIELD_TEXT) throw this.bad("field text too long");
  }

  private open(tag: SaxesTagNS): void {
    const parent = this.stack[this.stack.length - 1];
    const role = this.roleOf(tag, parent);
    this.stack.push({ role, local: tag.local });
    this.collecting =
      role === "entry-title" ||
      role === "field" ||
      role === "reading-start" ||
      role === "reading-duration" ||
      role === "reading-value";
    this.text = "";
    if (role === "entry") this.entry = newEntry();
    else if (role === "block") this.block = this.openBlock();
    else if (role === "reading")
      this.reading = { start: undefined, duration: undefined, value: undefined };
    else if (tag.uri === ATOM && tag.local === "link" && parent?.role === "entry") this.link(tag);
  }

  private roleOf(tag: SaxesTagNS, parent: Frame | undefined): Role {
    const atom = tag.uri === ATOM;
    const espi = tag.uri === ESPI;
    if (parent === undefined) {
      if (atom && (tag.local === "feed" || tag.local === "entry")) {
        return tag.local === "entry" ? "entry" : "root";
      }
      throw this.bad(`root element is <${tag.name}>, not an Atom feed or entry`);
    }
    switch (parent.role) {
      case "root":
        return atom && tag.local === "entry" ? "entry" : "other";
      case "entry":
        if (atom && tag.local === "title") return "entry-title";
        return atom && tag.local === "content" ? "content" : "other";
      case "content":
        if (!espi) return "other";
        if (this.entry?.resource !== undefined) throw this.bad("entry holds two resources");
        if (this.entry !== undefined) this.entry.resource = tag.local;
        return tag.local === "IntervalBlock" ? "block" : "resource";
      case "resource":
        return espi ? "field" : "other";
      case "block":
        return espi && tag.local === "IntervalReading" ? "reading" : "other";
      case "reading":
        if (espi && tag.local === "timePeriod") return "time-period";
        return espi && tag.local === "value" ? "reading-value" : "other";
      case "time-period":
        if (espi && tag.local === "start") return "reading-start";
        return espi && tag.local === "duration" ? "reading-duration" : "other";
      default:
        return "other";
    }
  }

  private link(tag: SaxesTagNS): void {
    const entry = this.entry;
    const rel = tag.attributes.rel?.value;
    const href = tag.attributes.href?.value;
    if (entry === undefined || href === undefined) return;
    if (rel === "self") entry.self = href;
    else if (rel === "up") entry.up = href;
    else if (rel === "related") entry.related.push(href);
  }

  private closeElement(): void {
    const frame = this.stack.pop();
    if (frame === undefined) return;
    const text = this.text.trim();
    this.text = "";
    this.collecting = false;
    const entry = this.entry;
    const reading = this.reading;
    switch (frame.role) {
      case "entry-title":
        if (entry !== undefined) entry.title = text;
        break;
      case "field":
        entry?.fields.set(frame.local, text);
        break;
      case "reading-start":
        if (reading !== undefined) reading.start = text;
        break;
      case "reading-duration":
        if (reading !== undefined) reading.duration = text;
        break;
      case "reading-value":
        if (reading !== undefined) reading.value = text;
        break;
      case "reading":
        this.closeReading();
        break;
      case "block":
        this.block = undefined;
        break;
      case "entry":
        this.closeEntry();
        break;
      default:
        break;
    }
  }

  private closeEntry(): void {
    const entry = this.entry;
    this.entry = undefined;
    if (entry === undefined) return;
    const href = entry.self ?? "";
    switch (entry.resource) {
      case "UsagePoint":
        this.queue.push({ kind: "usage-point", href, title: entry.title ?? "" });
        break;
      case "MeterReading":
        this.meterReadings.push({ self: href, related: entry.related });
        break;
      case "LocalTimeParameters": {
        const tzOffsetSec = this.integer(entry.fields.get("tzOffset"), "tzOffset");
        const dst = entry.fields.get("dstOffset");
        const dstOffsetSec = dst === undefined ? undefined : this.integer(dst, "dstOffset");
        this.queue.push({ kind: "local-time", href, tzOffsetSec, dstOffsetSec });
        break;
      }
      case "ReadingType": {
        const readingType = this.readingType(href, entry.fields);
        this.readingTypes.set(href, readingType);
        this.queue.push({ kind: "reading-type", readingType });
        break;
      }
      default:
        break;
    }
  }

  private readingType(href: string, fields: Map<string, string>): EspiReadingType {
    const small = (name: string): number | undefined => {
      const text = fields.get(name);
      if (text === undefined) return undefined;
      const value = this.integer(text, name);
      if (value < -1_000_000n || value > 1_000_000n)
        throw this.bad(`${name} ${value} out of range`);
      return Number(value);
    };
    const uom = small("uom");
    if (uom === undefined) throw this.bad("ReadingType without uom");
    const length = fields.get("intervalLength");
    const intervalLengthSec =
      length === undefined ? undefined : this.integer(length, "intervalLength");
    if (intervalLengthSec !== undefined && intervalLengthSec <= 0n) {
      throw this.bad("intervalLength must be positive");
    }
    return {
      href,
      uom,
      powerOfTenMultiplier: small("powerOfTenMultiplier") ?? 0,
      intervalLengthSec,
      accumulationBehaviour: small("accumulationBehaviour"),
      flowDirection: small("flowDirection"),
    };
  }

  // An IntervalBlock belongs to the MeterReading whose IntervalBlock collection its entry's
  // "up" link names; that MeterReading links its ReadingType as "related". A feed with a
  // single ReadingType needs no links at all.
  private openBlock(): Block {
    const up = this.entry?.up;
    const meter =
      up === undefined
        ? undefined
        : this.meterReadings.find(
            (m) => m.related.includes(up) || `${m.self}/IntervalBlock` === up,
          );
    let readingType = meter?.related
      .map((href) => this.readingTypes.get(href))
      .find((rt) => rt !== undefined);
    if (readingType === undefined) {
      if (this.readingTypes.size === 0) throw this.bad("IntervalBlock before any ReadingType");
      if (this.readingTypes.size > 1) {
        throw new MeterDataError(
          "AMBIGUOUS_SERIES",
          `${this.where}:${this.parser.line}: IntervalBlock not linked to one of several ReadingTypes`,
        );
      }
      readingType = [...this.readingTypes.values()][0];
    }
    if (readingType === undefined) throw this.bad("IntervalBlock without ReadingType");
    const meterReading = meter?.self ?? "";
    const unsupported = unsupportedReason(readingType);
    if (unsupported !== undefined) {
      this.queue.push({ kind: "block-skipped", meterReading, ...unsupported });
      return { skipped: true };
    }
    const key = seriesKey(meterReading, readingType);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { meterReading, readingType, carry: new WhCarry(), lastEnd: undefined };
      this.series.set(key, series);
    }
    return { series };
  }

  private closeReading(): void {
    const pending = this.reading;
    const block = this.block;
    this.reading = undefined;
    if (pending === undefined || block === undefined || !("series" in block)) return;
    const { series } = block;
    if (pending.start === undefined) throw this.bad("IntervalReading without timePeriod start");
    if (pending.value === undefined) throw this.bad("IntervalReading without value");
    const start = this.integer(pending.start, "start");
    const durationSec =
      pending.duration === undefined
        ? series.readingType.intervalLengthSec
        : this.integer(pending.duration, "duration");
    if (durationSec === undefined) throw this.bad("IntervalReading without duration");
    if (start < 0n) throw this.bad(`start ${start} is before 1970`);
    if (durationSec <= 0n) throw this.bad(`duration ${durationSec} is not positive`);
    const value = this.integer(pending.value, "value");
    if (value < 0n) throw this.bad(`negative value ${value} in forward delta data`);
    if (series.lastEnd !== undefined && start < series.lastEnd) {
      throw new MeterDataError(
        "BAD_INTERVALS",
        `${this.where}:${this.parser.line}: interval at ${start} overlaps or precedes the one ending at ${series.lastEnd}`,
      );
    }
    series.lastEnd = start + durationSec;
    const wh = series.carry.add(scaledWh(value, series.readingType.powerOfTenMultiplier));
    this.queue.push({
      kind: "interval",
      meterReading: series.meterReading,
      readingType: series.readingType,
      interval: { start, durationSec, wh },
    });
  }

  private integer(text: string | undefined, field: string): bigint {
    // xs:long at most; anything longer is not a meter value.
    if (text === undefined || !/^[+-]?[0-9]{1,19}$/.test(text)) {
      throw this.bad(`${field} is not an integer: ${JSON.stringify(text?.slice(0, 24))}`);
    }
    return BigInt(text);
  }
}

function newEntry(): Entry {
  return {
    self: undefined,
    up: undefined,
    related: [],
    title: undefined,
    resource: undefined,
    fields: new Map(),
  };
}

function unsupportedReason(
  rt: EspiReadingType,
): { code: "UNSUPPORTED_UOM" | "UNSUPPORTED_READING_TYPE"; reason: string } | undefined {
  if (rt.uom !== UOM_WH) {
    return {
      code: "UNSUPPORTED_UOM",
      reason: `ReadingType ${rt.href} has uom ${rt.uom}, not Wh (72)`,
    };
  }
  if (rt.accumulationBehaviour !== undefined && rt.accumulationBehaviour !== ACCUMULATION_DELTA) {
    return {
      code: "UNSUPPORTED_READING_TYPE",
      reason: `ReadingType ${rt.href} has accumulationBehaviour ${rt.accumulationBehaviour}, not deltaData (4)`,
    };
  }
  if (rt.flowDirection !== undefined && rt.flowDirection !== FLOW_FORWARD) {
    return {
      code: "UNSUPPORTED_READING_TYPE",
      reason: `ReadingType ${rt.href} has flowDirection ${rt.flowDirection}, not forward (1)`,
    };
  }
  return undefined;
}
