// Who signs a reading (DESIGN.md §2): a meter with a registered key signs its own readings, so
// the oracle relays them but cannot forge them; a utility without meter keys runs the oracle in
// oracle-only mode and its readings go unsigned (the chain then trusts the oracle's key alone).
// A simulated meter holds its key in a meter key file, {"keyType", "secretKey"} in JSON, 0600.
import { open, readFile, stat } from "node:fs/promises";
import { fromHex, toHex } from "../../lib/bytes.js";
import {
  type MeterKeyType,
  meterPublicKeyOf,
  normalizeMeterSignature,
  signMeter,
} from "../../lib/meter-key.js";
import { type Reading, readingSignBytes } from "../../vm/model/reading.js";
import type { MeterKeyConfig } from "./config.js";

export type MeterKeyErrorCode = "NOT_FOUND" | "PERMISSIONS" | "BAD_KEY_FILE" | "WRONG_TYPE";

export class MeterKeyError extends Error {
  override name = "MeterKeyError";
  constructor(
    readonly code: MeterKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface MeterKeyFile {
  readonly keyType: MeterKeyType;
  readonly secretKey: Uint8Array;
}

/** Signs the readings of one meter, or leaves them unsigned in oracle-only mode. */
export interface MeterSigner {
  readonly keyType: MeterKeyType | undefined;
  /** The meter's public key, 33 bytes compressed; undefined in oracle-only mode. */
  readonly publicKey: Uint8Array | undefined;
  /** The 64-byte low-s signature the chain checks, or undefined when the meter has no key. */
  sign(chainId: string, reading: Omit<Reading, "signature">): Uint8Array | undefined;
}

export const ORACLE_ONLY: MeterSigner = {
  keyType: undefined,
  publicKey: undefined,
  sign: () => undefined,
};

export function meterSigner(key: MeterKeyFile): MeterSigner {
  const publicKey = meterPublicKeyOf(key.keyType, key.secretKey);
  return {
    keyType: key.keyType,
    publicKey,
    sign(chainId, reading) {
      const message = readingSignBytes(chainId, { ...reading, signature: undefined });
      // Real meters may emit high-s signatures; the chain takes only the low-s form.
      return normalizeMeterSignature(key.keyType, signMeter(key.keyType, key.secretKey, message));
    },
  };
}

/** The signer a meter's config names: its key file's, or ORACLE_ONLY for "none". */
export async function signerFor(config: MeterKeyConfig): Promise<MeterSigner> {
  if (config.kind === "none") return ORACLE_ONLY;
  const key = await readMeterKeyFile(config.file);
  if (key.keyType !== config.type) {
    throw new MeterKeyError(
      "WRONG_TYPE",
      `${config.file} holds a ${key.keyType} key, but the config says ${config.type}`,
    );
  }
  return meterSigner(key);
}

export function renderMeterKeyFile(key: MeterKeyFile): string {
  return `${JSON.stringify({ keyType: key.keyType, secretKey: toHex(key.secretKey) })}\n`;
}

/** Writes a new meter key file, mode 0600; never replaces an existing file. */
export async function writeMeterKeyFile(path: string, key: MeterKeyFile): Promise<void> {
  meterPublicKeyOf(key.keyType, key.secretKey);
  const handle = await open(path, "wx", 0o600);
  try {
    await handle.writeFile(renderMeterKeyFile(key));
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a meter key file, refusing one other users may read (as ssh does with keys). */
export async function readMeterKeyFile(path: string): Promise<MeterKeyFile> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new MeterKeyError("NOT_FOUND", `no meter key file at ${path}`);
  if (!info.isFile() || info.size > 4096) {
    throw new MeterKeyError("BAD_KEY_FILE", `${path} is not a meter key file`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw new MeterKeyError(
      "PERMISSIONS",
      `meter key file ${path} is accessible by other users; run 'chmod 600 ${path}'`,
    );
  }
  return parseMeterKeyFile(await readFile(path, "utf8"), path);
}

export function parseMeterKeyFile(text: string, source: string): MeterKeyFile {
  const bad = (why: string) =>
    new MeterKeyError("BAD_KEY_FILE", `${source} is not a meter key file: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("not an object");
  const { keyType, secretKey, ...rest } = json as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw bad(`unknown fields ${Object.keys(rest).join(", ")}`);
  if (keyType !== "secp256k1" && keyType !== "p256") {
    throw bad(`"keyType" must be "secp256k1" or "p256"`);
  }
  if (typeof secretKey !== "string" || !/^(0x)?[0-9a-fA-F]{64}$/.test(secretKey)) {
    throw bad(`"secretKey" must be 32 bytes in hex`);
  }
  const key = { keyType, secretKey: fromHex(secretKey, 32) } as const;
  try {
    meterPublicKeyOf(key.keyType, key.secretKey);
  } catch {
    throw bad(`"secretKey" is not a valid ${keyType} secret key`);
  }
  return key;
}
