// Schemas shared by the state records and the transaction payloads.
import { bytes, CodecError, list, type Schema, text, u64 } from "../../lib/codec.js";

export const AddressSchema = bytes({ length: 20 });
export const HashSchema = bytes({ length: 32 });
export const PublicKeySchema = bytes({ length: 33 });
export const UtilityIdSchema = text(64);

/** A utility's id: short, lower-case and URL-safe, since RPC paths and the explorer show it. */
const UTILITY_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function isUtilityId(id: string): boolean {
  return UTILITY_ID.test(id);
}

/** A list of `min` to `max` items. */
export function listOf<T>(item: Schema<T>, min: number, max: number): Schema<T[]> {
  const inner = list(item, max);
  const check = (v: T[], path: string): T[] => {
    if (v.length < min) {
      throw new CodecError("SCHEMA", `${path}: expected at least ${min} items, got ${v.length}`);
    }
    return v;
  };
  return {
    name: `${item.name}[${min}..${max}]`,
    toWire: (v, path) => inner.toWire(check(v, path), path),
    fromWire: (w, path) => check(inner.fromWire(w, path), path),
  };
}

/** An integer in [min, max] (both below 2^32). */
export function intRange(min: number, max: number): Schema<number> {
  const check = (v: unknown, path: string): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new CodecError("SCHEMA", `${path}: expected an integer in [${min}, ${max}]`);
    }
    return v;
  };
  return { name: `int[${min},${max}]`, toWire: check, fromWire: check };
}

/** A schema whose values are another's after a checked conversion each way. */
export function mapped<W, T>(
  name: string,
  inner: Schema<W>,
  lift: (wire: W, path: string) => T,
  lower: (value: T, path: string) => W,
): Schema<T> {
  return {
    name,
    toWire: (v, path) => inner.toWire(lower(v, path), path),
    fromWire: (w, path) => lift(inner.fromWire(w, path), path),
  };
}

/** Twelve monthly baselines in Wh, January first. */
export const BaselinesSchema = listOf(u64, 12, 12);
