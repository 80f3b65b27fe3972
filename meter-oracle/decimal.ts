// Energy values as exact decimals. Files state energy as decimal kWh ("0.263") or as scaled
// integers (ESPI value × 10^powerOfTenMultiplier Wh); neither goes through floating point.
// Fractions of a Wh are not rounded per value: WhCarry emits whole Wh and carries the rest to
// the next value of the same series, so a cumulative register built from the emitted Wh is
// always exactly floor(true cumulative energy) and rounding never drifts.
import { MeterDataError } from "./interval.js";

/** A non-negative exact quantity of energy: units × 10^−scale Wh. */
export interface ExactWh {
  readonly units: bigint;
  /** 0 ≤ scale ≤ MAX_SCALE */
  readonly scale: number;
}

/** The most decimal places of a Wh kept (10^−18 Wh); finer input is rejected, not rounded. */
export const MAX_SCALE = 18;
// kWh → Wh moves the decimal point three places.
const KWH_DECIMALS = 3;
// Longer strings are not meter data, and would make arbitrarily large bigints.
const MAX_DECIMAL_LENGTH = 40;
const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/**
 * Parses an unsigned decimal kWh string exactly. Grammar: digits, optionally a point and more
 * digits ("0.263", "12", "0.0000000"). No sign, exponent, spaces, or bare point; callers trim.
 * Throws MeterDataError("BAD_DECIMAL").
 */
export function parseKwh(text: string): ExactWh {
  const match = text.length <= MAX_DECIMAL_LENGTH ? DECIMAL.exec(text) : null;
  if (match === null) {
    throw new MeterDataError("BAD_DECIMAL", `not an unsigned decimal kWh value: ${preview(text)}`);
  }
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  const scale = Math.max(0, fraction.length - KWH_DECIMALS);
  if (scale > MAX_SCALE) {
    throw new MeterDataError("BAD_DECIMAL", `more than ${MAX_SCALE + KWH_DECIMALS} decimals`);
  }
  const digits = BigInt(whole + fraction);
  // units × 10^−scale Wh = digits × 10^−fraction.length kWh.
  const units = digits * pow10(KWH_DECIMALS + scale - fraction.length);
  return { units, scale };
}

/** value × 10^powerOfTen Wh, the ESPI form. Throws MeterDataError("BAD_DECIMAL"). */
export function scaledWh(value: bigint, powerOfTen: number): ExactWh {
  if (value < 0n) throw new MeterDataError("BAD_DECIMAL", "energy cannot be negative");
  if (!Number.isInteger(powerOfTen) || powerOfTen < -MAX_SCALE || powerOfTen > MAX_SCALE) {
    throw new MeterDataError("BAD_DECIMAL", `power of ten ${powerOfTen} out of range`);
  }
  return powerOfTen >= 0
    ? { units: value * pow10(powerOfTen), scale: 0 }
    : { units: value, scale: -powerOfTen };
}

/** Whole Wh of one value, floored: what WhCarry emits for a series' first value. */
export function kwhToWh(text: string): bigint {
  const { units, scale } = parseKwh(text);
  return units / pow10(scale);
}

/** Wh as a kWh string with exactly three decimals: 1234n → "1.234". For tests and reports. */
export function formatKwh(wh: bigint): string {
  if (wh < 0n) throw new MeterDataError("BAD_DECIMAL", "energy cannot be negative");
  const whole = wh / 1000n;
  const fraction = (wh % 1000n).toString().padStart(KWH_DECIMALS, "0");
  return `${whole}.${fraction}`;
}

/** a and b denote the same quantity ("0.1" kWh and "0.100" kWh do). */
export function sameEnergy(a: ExactWh, b: ExactWh): boolean {
  return a.units * pow10(b.scale) === b.units * pow10(a.scale);
}

/**
 * Turns one series' exact values into whole Wh. After any prefix of values, the Wh emitted so
 * far sum to floor(sum of the exact values); the fraction below 1 Wh waits for the next value.
 */
export class WhCarry {
  // Carried fraction, in units of 10^−scale Wh; always < 10^scale.
  private residue = 0n;
  private scale = 0;

  add(value: ExactWh): bigint {
    if (value.scale > this.scale) {
      this.residue *= pow10(value.scale - this.scale);
      this.scale = value.scale;
    }
    const total = value.units * pow10(this.scale - value.scale) + this.residue;
    const one = pow10(this.scale);
    this.residue = total % one;
    return total / one;
  }
}

function preview(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);
}
