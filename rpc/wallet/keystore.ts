// The wallet's encrypted keystore: one JSON file per key in a directory (default
// ~/.wattcap/wallet), named by the key's address. The secret key is sealed with AES-256-GCM
// under a key derived from the password by scrypt; GCM's tag makes a wrong password and a
// changed file fail the same authenticated way, never yield a wrong key. Files are 0600 and the
// directory 0700. Node only (node:crypto, node:fs).
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { chmod, mkdir, open, readdir, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { addressOf, parseAddress, toChecksumAddress } from "../../lib/address.js";
import { equalBytes, fromHex, toHex, utf8 } from "../../lib/bytes.js";
import { isValidSecretKey, publicKeyOf } from "../../lib/keys.js";

export const KEYSTORE_VERSION = 1;

export type KeystoreErrorCode =
  /** GCM authentication failed: the password is wrong (or the ciphertext was changed). */
  | "WRONG_PASSWORD"
  /** The file is not a keystore of this version, or its fields are damaged. */
  | "CORRUPTED"
  | "NOT_FOUND"
  | "EXISTS"
  /** Several keys and none chosen. */
  | "AMBIGUOUS"
  | "BAD_SECRET"
  | "IO";

export class KeystoreError extends Error {
  override name = "KeystoreError";
  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** About 0.4 s and 128 MiB per unlock: costly to guess, bearable to type. */
export const STANDARD_SCRYPT: ScryptParams = { N: 1 << 17, r: 8, p: 1 };
/** For low-power devices and tests: 16 MiB; weaker against guessing. */
export const LIGHT_SCRYPT: ScryptParams = { N: 1 << 14, r: 8, p: 1 };

export interface KeystoreFile {
  version: number;
  address: string;
  crypto: {
    kdf: "scrypt";
    kdfparams: { N: number; r: number; p: number; salt: string };
    cipher: "aes-256-gcm";
    iv: string;
    ciphertext: string;
    tag: string;
  };
}

export function defaultKeystoreDir(): string {
  return join(homedir(), ".wattcap", "wallet");
}

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r * params.p + (16 << 20);
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, 32, { ...params, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** The address binds the file's name and content: GCM authenticates it as associated data. */
const aad = (address: string) => utf8(address.toLowerCase());

export async function encryptKey(
  secretKey: Uint8Array,
  password: string,
  params: ScryptParams = STANDARD_SCRYPT,
): Promise<KeystoreFile> {
  if (!isValidSecretKey(secretKey)) {
    throw new KeystoreError("BAD_SECRET", "not a valid secp256k1 secret key");
  }
  const address = toChecksumAddress(addressOf(publicKeyOf(secretKey)));
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", await deriveKey(password, salt, params), iv);
  cipher.setAAD(aad(address));
  const ciphertext = Buffer.concat([cipher.update(secretKey), cipher.final()]);
  return {
    version: KEYSTORE_VERSION,
    address,
    crypto: {
      kdf: "scrypt",
      kdfparams: { ...params, salt: toHex(salt) },
      cipher: "aes-256-gcm",
      iv: toHex(iv),
      ciphertext: toHex(ciphertext),
      tag: toHex(cipher.getAuthTag()),
    },
  };
}

const corrupted = (source: string, why: string) =>
  new KeystoreError("CORRUPTED", `${source} is not a valid keystore file: ${why}`);

function hexField(value: unknown, length: number, source: string, name: string): Uint8Array {
  if (typeof value !== "string" || !/^[0-9a-f]*$/.test(value) || value.length !== 2 * length) {
    throw corrupted(source, `${name} must be ${length} bytes of lower-case hex`);
  }
  return fromHex(value);
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 1 && (n & (n - 1)) === 0;

/** Checks a parsed keystore's shape; throws KeystoreError("CORRUPTED") naming what is wrong. */
export function parseKeystore(text: string, source: string): KeystoreFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupted(source, "not JSON");
  }
  const file = json as Partial<KeystoreFile> | null;
  if (typeof file !== "object" || file === null) throw corrupted(source, "not an object");
  if (file.version !== KEYSTORE_VERSION)
    throw corrupted(source, `unknown version ${String(file.version)}`);
  if (typeof file.address !== "string") throw corrupted(source, "no address");
  try {
    parseAddress(file.address);
  } catch (e) {
    throw corrupted(source, `bad address: ${(e as Error).message}`);
  }
  const c = file.crypto;
  if (typeof c !== "object" || c === null) throw corrupted(source, "no crypto section");
  if (c.kdf !== "scrypt" || c.cipher !== "aes-256-gcm") {
    throw corrupted(source, "only scrypt with aes-256-gcm is supported");
  }
  const k = c.kdfparams;
  if (typeof k !== "object" || k === null) throw corrupted(source, "no kdfparams");
  // Bounds keep a damaged or hostile file from asking for gigabytes of scrypt memory.
  if (
    !isPowerOfTwo(k.N) ||
    k.N > 1 << 20 ||
    k.r !== 8 ||
    !Number.isInteger(k.p) ||
    k.p < 1 ||
    k.p > 4
  ) {
    throw corrupted(source, "kdfparams out of range (N a power of two ≤ 2^20, r = 8, p ≤ 4)");
  }
  hexField(k.salt, 32, source, "salt");
  hexField(c.iv, 12, source, "iv");
  hexField(c.ciphertext, 32, source, "ciphertext");
  hexField(c.tag, 16, source, "tag");
  return file as KeystoreFile;
}

/** Opens a keystore file's secret key; a wrong password fails GCM and says so. */
export async function decryptKey(
  file: KeystoreFile,
  password: string,
  source = "keystore",
): Promise<Uint8Array> {
  const { kdfparams, iv, ciphertext, tag } = file.crypto;
  const { N, r, p, salt } = kdfparams;
  const key = await deriveKey(password, fromHex(salt), { N, r, p });
  const decipher = createDecipheriv("aes-256-gcm", key, fromHex(iv));
  decipher.setAAD(aad(file.address));
  decipher.setAuthTag(fromHex(tag));
  let secret: Uint8Array;
  try {
    secret = new Uint8Array(
      Buffer.concat([decipher.update(fromHex(ciphertext)), decipher.final()]),
    );
  } catch {
    throw new KeystoreError(
      "WRONG_PASSWORD",
      `cannot unlock ${source}: wrong password (or the file was altered)`,
    );
  }
  if (
    !isValidSecretKey(secret) ||
    !equalBytes(addressOf(publicKeyOf(secret)), parseAddress(file.address))
  ) {
    throw corrupted(source, "the key inside does not match its address");
  }
  return secret;
}

export interface KeyEntry {
  readonly address: string;
  readonly path: string;
}

/** A keystore directory. */
export class Keystore {
  constructor(readonly dir: string = defaultKeystoreDir()) {}

  pathOf(address: string): string {
    return join(this.dir, `${address.toLowerCase()}.json`);
  }

  /** Encrypts and writes a key; never overwrites an existing file for the same address. */
  async add(secretKey: Uint8Array, password: string, params?: ScryptParams): Promise<KeyEntry> {
    const file = await encryptKey(secretKey, password, params);
    const path = this.pathOf(file.address);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(path, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new KeystoreError("EXISTS", `the keystore already holds ${file.address}`);
      }
      throw new KeystoreError("IO", `cannot write ${path}: ${(e as Error).message}`);
    }
    return { address: file.address, path };
  }

  /** Every key file, by address; a damaged file is listed by the error it gives. */
  async list(): Promise<(KeyEntry & { readonly problem?: string })[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new KeystoreError("IO", `cannot read ${this.dir}: ${(e as Error).message}`);
    }
    const out: (KeyEntry & { problem?: string })[] = [];
    for (const name of names.filter((n) => n.endsWith(".json")).sort()) {
      const path = join(this.dir, name);
      try {
        const file = await this.#read(path);
        out.push({ address: file.address, path });
      } catch (e) {
        if (!(e instanceof KeystoreError)) throw e;
        out.push({ address: name.slice(0, -5), path, problem: e.message });
      }
    }
    return out;
  }

  async #read(path: string): Promise<KeystoreFile> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        throw new KeystoreError("NOT_FOUND", `no key file ${path}`);
      }
      throw new KeystoreError("IO", `cannot read ${path}: ${(e as Error).message}`);
    }
    return parseKeystore(text, path);
  }

  /** The key file for `address`, or the only one when no address is given. */
  async find(address?: string): Promise<KeyEntry & { readonly file: KeystoreFile }> {
    if (address !== undefined) {
      const path = this.pathOf(toChecksumAddress(parseAddress(address)));
      const file = await this.#read(path);
      return { address: file.address, path, file };
    }
    const entries = await this.list();
    if (entries.length === 0) {
      throw new KeystoreError("NOT_FOUND", `no keys in ${this.dir}: create or import one first`);
    }
    if (entries.length > 1) {
      throw new KeystoreError(
        "AMBIGUOUS",
        `${entries.length} keys in ${this.dir}: choose one with --address`,
      );
    }
    const only = entries[0]!;
    const file = await this.#read(only.path);
    return { address: file.address, path: only.path, file };
  }

  async unlock(
    password: string,
    address?: string,
  ): Promise<{ address: string; secretKey: Uint8Array }> {
    const entry = await this.find(address);
    const mode = (await stat(entry.path)).mode & 0o077;
    if (mode !== 0) {
      throw new KeystoreError("IO", `${entry.path} is readable by other users: chmod 600 it`);
    }
    return {
      address: entry.address,
      secretKey: await decryptKey(entry.file, password, entry.path),
    };
  }
}
