// How values read: the RPC's decimal strings are formatted by string arithmetic (never through
// floating point, since money and energy are bigints that can pass 2^53). Pure.

/** Groups the digits of a decimal integer string: "-1234567" → "-1,234,567". */
export function grouped(decimal: string): string {
  const negative = decimal.startsWith("-");
  const digits = negative ? decimal.slice(1) : decimal;
  if (!/^\d+$/.test(digits)) return decimal;
  const out = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return negative ? `-${out}` : out;
}

/** A decimal integer string divided by 10^places, exactly: ("1500", 3) → "1.5". */
export function scaled(decimal: string, places: number): string {
  const negative = decimal.startsWith("-");
  const digits = (negative ? decimal.slice(1) : decimal).padStart(places + 1, "0");
  if (!/^\d+$/.test(digits)) return decimal;
  const whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places).replace(/0+$/, "");
  const text = fraction ? `${grouped(whole)}.${fraction}` : grouped(whole);
  return negative && /[1-9]/.test(digits) ? `-${text}` : text;
}

/** Energy in Wh. */
export const wh = (value: string): string => `${grouped(value)} Wh`;

/** Money in micro-units, shown in units of the chain's currency. */
export const money = (micro: string): string => scaled(micro, 6);

/** A price in micro-units per Wh, shown per kWh in units (150 → 0.15 per kWh). */
export const pricePerKwh = (microPerWh: string): string => `${scaled(microPerWh, 3)}/kWh`;

/** Unix milliseconds as an ISO-8601 UTC instant, to the second. */
export function time(ms: string): string {
  if (!/^\d+$/.test(ms)) return ms;
  const value = Number(ms);
  if (!Number.isSafeInteger(value)) return ms;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? ms : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A hash shortened for tables; the full value stays in the link's title. */
export function short(hex: string, keep = 8): string {
  return hex.length > keep * 2 + 4 ? `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}` : hex;
}

/** Milliseconds as a duration: "1.5 s", "3 min". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** What the search box was given, by its form alone. */
export type Query =
  | { readonly kind: "height"; readonly height: string }
  | { readonly kind: "hash"; readonly hash: string }
  | { readonly kind: "address"; readonly address: string }
  | { readonly kind: "meter-id"; readonly meterId: string }
  | { readonly kind: "empty" };

export function classify(input: string): Query {
  const q = input.trim();
  if (q === "") return { kind: "empty" };
  if (/^\d{1,20}$/.test(q)) return { kind: "height", height: BigInt(q).toString() };
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) return { kind: "hash", hash: q.toLowerCase() };
  if (/^0x[0-9a-fA-F]{40}$/.test(q)) return { kind: "address", address: q };
  return { kind: "meter-id", meterId: q };
}
