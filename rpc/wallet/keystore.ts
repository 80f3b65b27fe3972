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
import { toHex } from "../../lib/bytes.js";
import { isValidSecretKey, publicKeyOf } from "../../lib/keys.js";
import {
  aad,
  checkOpenedKey,
  KEYSTORE_VERSION,
  KeystoreError,
  type KeystoreFile,
  parseKeystore,
  type ScryptParams,
  STANDARD_SCRYPT,
  scryptMaxmem,
  sealedParts,
  wrongPassword,
} from "./keystore-file.js";

export {
  KEYSTORE_VERSION,
  KeystoreError,
  type KeystoreErrorCode,
  type KeystoreFile,
  LIGHT_SCRYPT,
  parseKeystore,
  type ScryptParams,
  STANDARD_SCRYPT,
} from "./keystore-file.js";

export function defaultKeystoreDir(): string {
  return join(homedir(), ".wattcap", "wallet");
}

function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const maxmem = scryptMaxmem(params);
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, 32, { ...params, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

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

/** Opens a keystore file's secret key; a wrong password fails GCM and says so. */
export async function decryptKey(
  file: KeystoreFile,
  password: string,
  source = "keystore",
): Promise<Uint8Array> {
  const { params, salt, iv, ciphertext, tag, aad: associated } = sealedParts(file);
  const key = await deriveKey(password, salt, params);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(associated);
  decipher.setAuthTag(tag);
  let secret: Uint8Array;
  try {
    secret = new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch {
    throw wrongPassword(source);
  }
  return checkOpenedKey(secret, file, source);
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
