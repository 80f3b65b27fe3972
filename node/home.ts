// The node's home directory:
//   <home>/config.json          settings (config.ts)
//   <home>/genesis.json         the chain's genesis, placed by the operator
//   <home>/keys/node.key        the libp2p identity (secp256k1; its peer id names this node)
//   <home>/keys/validator.key   the consensus key (unless a remote signer holds it)
//   <home>/data/                the LevelDB store
//   <home>/wal/signing.wal      the signing WAL (wal.ts)
// Directories are 0700 and files 0600: the keys are secrets, and the WAL and store are this
// validator's memory of what it signed, which no other user should be able to change.
//
// A key file is JSON, {"type": "validator", "secretKey": "<64 hex digits>"}, so a file says
// what it is for and cannot be used as another kind of key by mistake.
import type { Stats } from "node:fs";
import { link, lstat, mkdir, open, readFile, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { privateKeyFromRaw } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { addressOf, toChecksumAddress } from "../lib/address.js";
import { fromHex, toHex, utf8 } from "../lib/bytes.js";
import { generateSecretKey, isValidSecretKey, publicKeyOf } from "../lib/keys.js";
import { CONFIG_FILE, defaultConfigFile, renderConfigFile } from "./config.js";
import { makeDirectory, syncDirectory, walLockHolder } from "./wal.js";

export interface HomePaths {
  readonly home: string;
  readonly config: string;
  /** The default genesis location; config.genesisFile may name another. */
  readonly genesis: string;
  readonly keys: string;
  readonly nodeKey: string;
  readonly validatorKey: string;
  readonly data: string;
  readonly walDir: string;
  readonly signingWal: string;
}

export function homePaths(home: string): HomePaths {
  const root = resolve(home);
  const keys = join(root, "keys");
  const walDir = join(root, "wal");
  return {
    home: root,
    config: join(root, CONFIG_FILE),
    genesis: join(root, "genesis.json"),
    keys,
    nodeKey: join(keys, "node.key"),
    validatorKey: join(keys, "validator.key"),
    data: join(root, "data"),
    walDir,
    signingWal: join(walDir, "signing.wal"),
  };
}

export type HomeErrorCode =
  | "EXISTS" // would overwrite an existing home or file
  | "IN_USE" // a node is running on the home
  | "NOT_FOUND"
  | "NOT_A_DIRECTORY"
  | "PERMISSIONS" // a key file others can read
  | "BAD_KEY_FILE" // not a well-formed key file
  | "WRONG_KEY_TYPE" // a well-formed key file for another purpose
  | "IO";

export class HomeError extends Error {
  override name = "HomeError";
  constructor(
    readonly code: HomeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const KEY_TYPES = ["validator", "operator", "oracle", "household", "node"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface KeyFile {
  readonly type: KeyType;
  readonly secretKey: Uint8Array;
}

/** Key files are tiny; a large file is not one, and is not read whole into memory. */
const MAX_KEY_FILE_BYTES = 4096;

function isKeyType(value: unknown): value is KeyType {
  return typeof value === "string" && (KEY_TYPES as readonly string[]).includes(value);
}

export function renderKeyFile(key: KeyFile): string {
  return `${JSON.stringify({ type: key.type, secretKey: toHex(key.secretKey) })}\n`;
}

/** Parses a key file's text; `source` names it in errors. Throws HomeError BAD_KEY_FILE. */
export function parseKeyFile(text: string, source: string): KeyFile {
  const bad = (why: string) => new HomeError("BAD_KEY_FILE", `${source} is not a key file: ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw bad("not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw bad("not an object");
  const keys = Object.keys(json).sort();
  if (keys.length !== 2 || keys[0] !== "secretKey" || keys[1] !== "type") {
    throw bad(`expected exactly the fields "type" and "secretKey", got ${JSON.stringify(keys)}`);
  }
  const { type, secretKey } = json as { type: unknown; secretKey: unknown };
  if (!isKeyType(type)) throw bad(`"type" must be one of ${KEY_TYPES.join(", ")}`);
  if (typeof secretKey !== "string" || !/^(0x)?[0-9a-fA-F]{64}$/.test(secretKey)) {
    throw bad(`"secretKey" must be 32 bytes in hex`);
  }
  const bytes = fromHex(secretKey, 32);
  if (!isValidSecretKey(bytes)) throw bad(`"secretKey" is not a valid secp256k1 secret key`);
  return { type, secretKey: bytes };
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

/**
 * Creates `path` with `data` and mode 0600, never replacing an existing file: the data is
 * written and fsynced under a temporary name, then hard-linked into place, which fails if the
 * name exists. A crash leaves the file complete or absent (plus, at worst, a stray temporary).
 */
export async function createFileExclusive(path: string, data: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, path);
    } catch (error) {
      if (errnoCode(error) === "EEXIST") {
        throw new HomeError("EXISTS", `${path} already exists; not overwriting it`);
      }
      throw error;
    }
    await syncDirectory(dirname(path));
  } catch (error) {
    if (error instanceof HomeError) throw error;
    throw new HomeError("IO", `cannot write ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Writes a new key file (0600); throws HomeError EXISTS rather than replace a key. */
export async function writeKeyFile(path: string, key: KeyFile): Promise<void> {
  await createFileExclusive(path, utf8(renderKeyFile(key)));
}

/**
 * Reads a key file, refusing one that group or others may read or write (as ssh does): such a
 * key may already be copied, and the operator should know. Throws HomeError NOT_FOUND,
 * PERMISSIONS, BAD_KEY_FILE, WRONG_KEY_TYPE or IO.
 */
export async function readKeyFile(path: string, expected?: KeyType): Promise<KeyFile> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") throw new HomeError("NOT_FOUND", `no key file at ${path}`);
    throw new HomeError("IO", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!info.isFile()) throw new HomeError("BAD_KEY_FILE", `${path} is not a file`);
  if ((info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    throw new HomeError(
      "PERMISSIONS",
      `key file ${path} is accessible by other users (mode ${mode}); run 'chmod 600 ${path}'`,
    );
  }
  if (info.size > MAX_KEY_FILE_BYTES) {
    throw new HomeError("BAD_KEY_FILE", `${path} is not a key file: ${info.size} bytes`);
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new HomeError("IO", `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const key = parseKeyFile(text, path);
  if (expected !== undefined && key.type !== expected) {
    throw new HomeError("WRONG_KEY_TYPE", `${path} holds a ${key.type} key, not a ${expected} key`);
  }
  return key;
}

/** The libp2p peer id of a node key: how other nodes and configs name this node. */
export function peerIdOf(nodeSecretKey: Uint8Array): string {
  return peerIdFromPrivateKey(privateKeyFromRaw(nodeSecretKey)).toString();
}

/** The public identity of a key: what `keys show` prints and genesis files need. */
export interface KeyIdentity {
  readonly type: KeyType;
  readonly publicKey: Uint8Array;
  /** EIP-55 checksummed 0x address. */
  readonly address: string;
  /** For node keys only. */
  readonly peerId?: string;
}

export function identityOf(key: KeyFile): KeyIdentity {
  const publicKey = publicKeyOf(key.secretKey);
  const address = toChecksumAddress(addressOf(publicKey));
  return key.type === "node"
    ? { type: key.type, publicKey, address, peerId: peerIdOf(key.secretKey) }
    : { type: key.type, publicKey, address };
}

export interface InitOptions {
  readonly home: string;
  readonly moniker: string;
  /**
   * Replace an existing home's config, keys, store and WAL. The store and WAL go too: they
   * belong to the old keys, and a WAL kept with a new key would refuse to sign.
   */
  readonly force?: boolean;
}

export interface InitResult {
  readonly paths: HomePaths;
  readonly peerId: string;
  readonly validator: KeyIdentity;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}

/**
 * Creates a home: directories, a node key, a validator key and a default config. Refuses (EXISTS)
 * if the directory already holds any of them unless `force`, and refuses (IN_USE) even with
 * `force` while a node runs on it. Validates everything before writing anything; if writing
 * fails part-way, removes what it created.
 */
export async function initHome(options: InitOptions): Promise<InitResult> {
  const paths = homePaths(options.home);
  const config = utf8(renderConfigFile(defaultConfigFile(options.moniker)));
  const ours = [paths.config, paths.keys, paths.data, paths.walDir];
  let homeExisted: boolean;
  let present: string[];
  try {
    homeExisted = await exists(paths.home);
    if (homeExisted && !(await stat(paths.home)).isDirectory()) {
      throw new HomeError("NOT_A_DIRECTORY", `${paths.home} exists and is not a directory`);
    }
    present = [];
    for (const p of ours) if (await exists(p)) present.push(p);
  } catch (error) {
    if (error instanceof HomeError) throw error;
    throw new HomeError("IO", `cannot inspect ${paths.home}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (present.length > 0 && !options.force) {
    throw new HomeError(
      "EXISTS",
      `${paths.home} is already a Wattcap home (found ${present.join(", ")}); use --force to replace its keys, data and WAL`,
    );
  }
  const holder = walLockHolder(paths.signingWal);
  if (holder !== undefined) {
    throw new HomeError(
      "IN_USE",
      `a node (process ${holder}) is running on ${paths.home}; stop it first`,
    );
  }

  const nodeKey: KeyFile = { type: "node", secretKey: generateSecretKey() };
  const validatorKey: KeyFile = { type: "validator", secretKey: generateSecretKey() };
  try {
    for (const p of present) await rm(p, { recursive: true, force: true });
    await makeDirectory(paths.home);
    for (const dir of [paths.keys, paths.data, paths.walDir]) await mkdir(dir, { mode: 0o700 });
    await writeKeyFile(paths.nodeKey, nodeKey);
    await writeKeyFile(paths.validatorKey, validatorKey);
    await createFileExclusive(paths.config, config);
    await syncDirectory(paths.home);
  } catch (error) {
    if (homeExisted) {
      for (const p of ours) await rm(p, { recursive: true, force: true }).catch(() => undefined);
    } else {
      await rm(paths.home, { recursive: true, force: true }).catch(() => undefined);
    }
    if (error instanceof HomeError) throw error;
    throw new HomeError("IO", `cannot create ${paths.home}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return { paths, peerId: peerIdOf(nodeKey.secretKey), validator: identityOf(validatorKey) };
}
