// `wattcap wallet`: a household's wallet on the command line. Keys live in an encrypted
// keystore (rpc/wallet/keystore.ts); everything else goes through the client SDK
// (rpc/client), and balance and credits are proven against a header signed by a validator set
// the wallet trusts (--genesis or --checkpoint), never just believed.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { AddressError, parseAddress, toChecksumAddress } from "../lib/address.js";
import { fromHex, HexError } from "../lib/bytes.js";
import { generateSecretKey, isValidSecretKey } from "../lib/keys.js";
import { validatorSetHash } from "../lib/validator.js";
import { WattcapClient } from "../rpc/client/client.js";
import { validatorSetFromJson } from "../rpc/client/convert.js";
import { genesisTrust, LightClient, type TrustRoot } from "../rpc/client/light-client.js";
import { type Proven, provenAccount, provenCredits } from "../rpc/client/proven.js";
import {
  RpcClientError,
  TransportError,
  type WebSocketConstructor,
} from "../rpc/client/transport.js";
import { Signer, TxBuildError, type TxStatus, waitForFinality } from "../rpc/client/tx-builder.js";
import { bytesJson, type Json, JsonFormError, parseBytes, parseU64 } from "../rpc/json.js";
import type { ResultOf, ValidatorJson } from "../rpc/methods.js";
import {
  defaultKeystoreDir,
  Keystore,
  KeystoreError,
  type KeystoreErrorCode,
  LIGHT_SCRYPT,
  STANDARD_SCRYPT,
} from "../rpc/wallet/keystore.js";
import { projectPeriod } from "../rpc/wallet/projection.js";
import { getPassword, PromptError } from "../rpc/wallet/prompt.js";
import type { PayloadOf, TxTypeName } from "../vm/tx/types.js";
import {
  CliError,
  EXIT_CANT_CREATE,
  EXIT_DATA,
  EXIT_IO,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
} from "./usage.js";

const DEFAULT_RPC = "http://127.0.0.1:8545";
const EXIT_NO_INPUT = 66;
const EXIT_NO_PERMISSION = 77;

const COMMON = `Options for every command:
  --keystore DIR      the keystore (default: ${defaultKeystoreDir()})
  --rpc URL           the node's JSON-RPC URL (default: ${DEFAULT_RPC})
  --ws URL            its WebSocket URL (default: ws://HOST:PORT/ws of --rpc)
  --address ADDR      which key of the keystore (needed when it holds several)
  --household ADDR    the household, when it is not the key's own address (app keys)
  --json              print JSON (one object per line for watch)
  -h, --help          show help
The password comes from WATTCAP_PASSWORD, else a prompt (not echoed).`;

const TRUST = `  --genesis FILE      trust the genesis file's validator set (or WATTCAP_GENESIS)
  --checkpoint FILE   trust a checkpoint: {"chainId", "height", "validators": [...]}
                      (validators as chain_getValidators gives them; optional "validatorsHash")`;

const SEND = `  --no-wait           return once the node accepts it, without waiting for a block`;

const SUBCOMMANDS: Record<string, { summary: string; usage: string }> = {
  create: {
    summary: "make a new household key in the keystore",
    usage: `wallet create [--light-kdf]
  --light-kdf         scrypt N=2^14 instead of 2^17: faster to unlock, weaker to guessing`,
  },
  import: {
    summary: "add an existing key (hex secret on stdin, or --secret-file)",
    usage: `wallet import [--secret-file FILE] [--light-kdf]
  --secret-file FILE  a file with the 64-hex-digit secret, or a 'wattcap keys' key file`,
  },
  list: { summary: "list the keystore's keys", usage: "wallet list" },
  balance: {
    summary: "balance and credits, verified with a state proof",
    usage: `wallet balance [--genesis FILE | --checkpoint FILE]\n${TRUST}`,
  },
  status: {
    summary: "cap, consumption so far, projected month-end position, credits, orders",
    usage: "wallet status",
  },
  statement: { summary: "a period's statement", usage: "wallet statement --period K" },
  order: {
    summary: "place, cancel or replace an order",
    usage: `wallet order place --side buy|sell --qty WH --price P --expiry TIME
wallet order cancel --order ID
wallet order replace --order ID --qty WH --price P --expiry TIME
  --price P           micro-units per Wh
  --expiry TIME       unix ms, or +N followed by s, m or h from now
${SEND}`,
  },
  standing: {
    summary: "set or clear a standing order",
    usage: `wallet standing set --side buy|sell --price P
wallet standing clear --side buy|sell
  sell: sell the surplus minted at finalisation at no less than P
  buy:  cover the shortfall at no more than P
${SEND}`,
  },
  delegate: {
    summary: "let an app key manage standing orders (or --clear)",
    usage: `wallet delegate --app-key ADDR | --clear\n${SEND}`,
  },
  transfer: {
    summary: "transfer credits to another household",
    usage: `wallet transfer --to ADDR --vintage K --qty WH\n${SEND}`,
  },
  watch: { summary: "print the household's live events until Ctrl-C", usage: "wallet watch" },
};

function usageText(sub?: string): string {
  const entry = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (entry)
    return `Usage: wattcap ${entry.usage.replaceAll("\nwallet", "\n       wattcap wallet")}\n\n${COMMON}\n`;
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((k) => k.length));
  const lines = Object.entries(SUBCOMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`);
  return `Usage: wattcap wallet <command> [options]\n\nCommands:\n${lines.join("\n")}\n\n${COMMON}\nRun 'wattcap wallet <command> --help' for a command's options.\n`;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      keystore: { type: "string" },
      rpc: { type: "string" },
      ws: { type: "string" },
      address: { type: "string" },
      household: { type: "string" },
      genesis: { type: "string" },
      checkpoint: { type: "string" },
      "secret-file": { type: "string" },
      "light-kdf": { type: "boolean", default: false },
      period: { type: "string" },
      side: { type: "string" },
      qty: { type: "string" },
      price: { type: "string" },
      expiry: { type: "string" },
      order: { type: "string" },
      to: { type: "string" },
      vintage: { type: "string" },
      "app-key": { type: "string" },
      clear: { type: "boolean", default: false },
      "no-wait": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

function usage(sub: string | undefined, message: string): CliError {
  const hint = sub && SUBCOMMANDS[sub] ? `wattcap wallet ${sub} --help` : "wattcap wallet --help";
  return new CliError(`wallet: ${message}. Run '${hint}'.`, EXIT_USAGE);
}

const KEYSTORE_EXIT: Record<KeystoreErrorCode, number> = {
  WRONG_PASSWORD: EXIT_NO_PERMISSION,
  CORRUPTED: EXIT_DATA,
  NOT_FOUND: EXIT_NO_INPUT,
  EXISTS: EXIT_CANT_CREATE,
  AMBIGUOUS: EXIT_USAGE,
  BAD_SECRET: EXIT_DATA,
  IO: EXIT_IO,
};

/** The CLI form of the SDK's and keystore's typed failures. */
function cliError(error: unknown): unknown {
  if (error instanceof KeystoreError) {
    return new CliError(`wallet: ${error.message} [${error.code}]`, KEYSTORE_EXIT[error.code]);
  }
  if (error instanceof PromptError) return new CliError(`wallet: ${error.message}`, EXIT_USAGE);
  if (error instanceof TransportError) {
    return new CliError(`wallet: ${error.message} [${error.code}]`, EXIT_UNAVAILABLE);
  }
  if (error instanceof RpcClientError) {
    const reject = error.reject === undefined ? "" : ` [${error.reject}]`;
    return new CliError(`wallet: the node refused: ${error.message}${reject}`, EXIT_DATA);
  }
  if (error instanceof TxBuildError) return new CliError(`wallet: ${error.message}`, EXIT_USAGE);
  return error;
}

// ---------------------------------------------------------------------------------------------
// Arguments.

function need(values: Values, sub: string, name: keyof Values): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw usage(sub, `--${name} is required`);
  return v;
}

function u64Arg(values: Values, sub: string, name: keyof Values): bigint {
  const text = need(values, sub, name);
  try {
    return parseU64(text);
  } catch {
    throw usage(sub, `--${name} must be a whole number, got '${text}'`);
  }
}

function addressArg(sub: string, name: string, text: string): string {
  try {
    return toChecksumAddress(parseAddress(text));
  } catch (e) {
    if (!(e instanceof AddressError)) throw e;
    throw usage(sub, `--${name}: ${e.message}`);
  }
}

function sideArg(values: Values, sub: string): "buy" | "sell" {
  const side = need(values, sub, "side");
  if (side !== "buy" && side !== "sell")
    throw usage(sub, `--side must be buy or sell, got '${side}'`);
  return side;
}

const UNIT_MS: Record<string, bigint> = { s: 1000n, m: 60_000n, h: 3_600_000n };

function expiryArg(values: Values, sub: string): bigint {
  const text = need(values, sub, "expiry");
  const relative = /^\+([0-9]{1,9})([smh])$/.exec(text);
  if (relative) return BigInt(Date.now()) + BigInt(relative[1]!) * UNIT_MS[relative[2]!]!;
  try {
    return parseU64(text);
  } catch {
    throw usage(sub, `--expiry must be unix ms or +N[s|m|h], got '${text}'`);
  }
}

function hashArg(values: Values, sub: string, name: keyof Values): Uint8Array {
  const text = need(values, sub, name);
  try {
    return parseBytes(text, 32);
  } catch {
    throw usage(sub, `--${name} must be a 32-byte 0x-hex id`);
  }
}

// ---------------------------------------------------------------------------------------------
// Output.

function emit(values: Values, json: unknown, text: string): void {
  process.stdout.write(
    values.json ? `${JSON.stringify(json)}\n` : text.endsWith("\n") ? text : `${text}\n`,
  );
}

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join("\n");
}

// ---------------------------------------------------------------------------------------------
// Context: keystore, client, trust.

function keystoreOf(values: Values): Keystore {
  return new Keystore(values.keystore ?? defaultKeystoreDir());
}

async function clientOf(values: Values): Promise<WattcapClient> {
  const { WebSocket } = await import("ws");
  return new WattcapClient({
    url: values.rpc ?? DEFAULT_RPC,
    wsUrl: values.ws,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
}

/** The household to read: --household, else --address, else the keystore's only key. */
async function householdOf(values: Values, sub: string): Promise<string> {
  if (values.household !== undefined) return addressArg(sub, "household", values.household);
  if (values.address !== undefined) return addressArg(sub, "address", values.address);
  return (await keystoreOf(values).find()).address;
}

async function signerOf(values: Values, sub: string, client: WattcapClient): Promise<Signer> {
  const address =
    values.address === undefined ? undefined : addressArg(sub, "address", values.address);
  const store = keystoreOf(values);
  const entry = await store.find(address);
  const password = await getPassword(`unlock ${entry.address}`);
  const { secretKey } = await store.unlock(password, entry.address);
  return new Signer(client, secretKey);
}

async function trustOf(values: Values): Promise<TrustRoot | undefined> {
  if (values.checkpoint !== undefined) {
    let json: {
      chainId?: unknown;
      height?: unknown;
      validators?: unknown;
      validatorsHash?: unknown;
    };
    try {
      json = JSON.parse(await readFile(values.checkpoint, "utf8"));
      if (typeof json.chainId !== "string" || typeof json.height !== "string") {
        throw new JsonFormError("it needs chainId and height as strings");
      }
      const validators = validatorSetFromJson(json.validators as ValidatorJson[]);
      // A checkpoint copied from a header carries the set's hash too: it must be this set's.
      if (
        json.validatorsHash !== undefined &&
        json.validatorsHash !== bytesJson(validatorSetHash(validators))
      ) {
        throw new JsonFormError("validatorsHash is not the hash of its validators");
      }
      return { chainId: json.chainId, height: parseU64(json.height), validators };
    } catch (e) {
      throw new CliError(
        `wallet: ${values.checkpoint} is not a checkpoint: ${(e as Error).message}`,
        EXIT_DATA,
      );
    }
  }
  const genesisFile = values.genesis ?? process.env.WATTCAP_GENESIS;
  if (genesisFile === undefined || genesisFile === "") return undefined;
  // Loaded only here: building a genesis pulls in the state tree and the vm's genesis rules.
  const { GenesisLoadError, loadGenesisFile } = await import("../node/genesis.js");
  try {
    const genesis = await loadGenesisFile(genesisFile);
    return genesisTrust(genesis.chainId, genesis.validators);
  } catch (e) {
    if (e instanceof GenesisLoadError) throw new CliError(`wallet: ${e.message}`, EXIT_DATA);
    throw e;
  }
}

function verificationJson(result: Proven<unknown> | undefined, reason?: string) {
  if (result === undefined) return { verified: false, code: "NO_TRUST_ROOT", message: reason };
  if (!result.verified) return { verified: false, code: result.code, message: result.message };
  return {
    verified: true,
    height: result.height.toString(),
    signers: result.signers,
    validators: result.setSize,
  };
}

// ---------------------------------------------------------------------------------------------
// Key commands.

async function readSecret(values: Values): Promise<Uint8Array> {
  let text: string;
  const file = values["secret-file"];
  if (file !== undefined) {
    try {
      text = await readFile(file, "utf8");
    } catch (e) {
      throw new CliError(`wallet: cannot read ${file}: ${(e as Error).message}`, EXIT_NO_INPUT);
    }
    if (text.trimStart().startsWith("{")) {
      // A node key file; node/home.ts is loaded only for it (it brings libp2p's key types).
      const { HomeError, parseKeyFile } = await import("../node/home.js");
      try {
        return parseKeyFile(text, file).secretKey;
      } catch (e) {
        if (e instanceof HomeError) throw new CliError(`wallet: ${e.message}`, EXIT_DATA);
        throw e;
      }
    }
  } else {
    if (process.stdin.isTTY) {
      throw usage(
        "import",
        "pipe the hex secret on stdin or pass --secret-file (it is never prompted for)",
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString("utf8");
  }
  let secret: Uint8Array;
  try {
    secret = fromHex(text.trim(), 32);
  } catch (e) {
    if (!(e instanceof HexError)) throw e;
    throw new CliError("wallet: the secret must be 32 bytes of hex (64 digits)", EXIT_DATA);
  }
  if (!isValidSecretKey(secret))
    throw new CliError("wallet: not a valid secp256k1 secret key", EXIT_DATA);
  return secret;
}

async function addKey(values: Values, secret: Uint8Array): Promise<number> {
  const store = keystoreOf(values);
  const password = await getPassword("encrypt the new key", true);
  const entry = await store.add(
    secret,
    password,
    values["light-kdf"] ? LIGHT_SCRYPT : STANDARD_SCRYPT,
  );
  emit(
    values,
    entry,
    table([
      ["address", entry.address],
      ["file", entry.path],
    ]),
  );
  return 0;
}

async function list(values: Values): Promise<number> {
  const entries = await keystoreOf(values).list();
  const text =
    entries.length === 0
      ? `no keys in ${keystoreOf(values).dir}`
      : entries
          .map((e) => (e.problem ? `${e.address}  DAMAGED: ${e.problem}` : e.address))
          .join("\n");
  emit(values, { keys: entries }, text);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Reads.

async function balance(values: Values, client: WattcapClient): Promise<number> {
  const address = await householdOf(values, "balance");
  const trust = await trustOf(values);
  const account = await client.rpc.account_get({ address });
  let proof: Proven<unknown> | undefined;
  const creditProofs: Proven<unknown>[] = [];
  if (trust !== undefined) {
    const light = new LightClient(trust, client.headerSource());
    proof = await provenAccount(client, light, address, account);
    for (const c of account.credits) {
      creditProofs.push(await provenCredits(client, light, address, parseU64(c.vintage), c));
    }
  }
  const failed = [proof, ...creditProofs].find((p) => p !== undefined && !p.verified);
  const verification = verificationJson(
    failed ?? proof,
    "no trusted validator set: pass --genesis FILE or --checkpoint FILE",
  );
  const json = {
    address,
    balance: account.balance,
    lockedMoney: account.lockedMoney,
    credits: account.credits,
    verification,
  };
  const rows: [string, string][] = [
    ["address", address],
    ["balance", `${account.balance} micro-units (${account.lockedMoney} locked by buy orders)`],
    [
      "credits",
      account.credits.length === 0
        ? "none"
        : account.credits
            .map((c) => `vintage ${c.vintage}: ${c.amount} Wh (${c.locked} locked)`)
            .join("; "),
    ],
  ];
  let line: string;
  if (verification.verified) {
    line = `verified against block ${verification.height} signed by ${verification.signers}/${verification.validators} validators`;
  } else {
    line = `WARNING: NOT VERIFIED (${verification.code}): ${verification.message}`;
  }
  emit(values, json, `${table(rows)}\n${line}`);
  if (!verification.verified) process.stderr.write(`wallet: ${line}\n`);
  return failed !== undefined ? EXIT_DATA : 0;
}

async function status(values: Values, client: WattcapClient): Promise<number> {
  const address = await householdOf(values, "status");
  const household = await client.rpc.household_get({ address });
  if (household === null)
    throw new CliError(`wallet: ${address} is not a registered household`, EXIT_NO_INPUT);
  const [chain, account, orders] = await Promise.all([
    client.rpc.chain_status(),
    client.rpc.account_get({ address }),
    client.rpc.market_orders({ address }),
  ]);
  const current = household.currentPeriod;
  let projection: { projected: string; position: string; elapsedBps: string } | null = null;
  let periodInfo: ResultOf<"period_get"> | null = null;
  if (current !== null) {
    periodInfo = await client.rpc.period_get({
      utility: household.utility,
      period: current.period,
    });
    if (current.cap !== null && current.consumptionSoFar !== null) {
      const p = projectPeriod(
        BigInt(current.consumptionSoFar),
        BigInt(current.cap),
        BigInt(periodInfo.start),
        BigInt(periodInfo.end),
        BigInt(chain.headTime),
      );
      projection = {
        projected: p.projected.toString(),
        position: p.position.toString(),
        elapsedBps: p.elapsedBps.toString(),
      };
    }
  }
  const json = {
    address,
    utility: household.utility,
    status: household.status,
    period: current,
    periodStart: periodInfo?.start ?? null,
    periodEnd: periodInfo?.end ?? null,
    projection,
    balance: account.balance,
    credits: account.credits,
    orders: orders.items,
    standingOrders: household.standingOrders,
    appKey: household.appKey,
  };
  const rows: [string, string][] = [
    ["household", `${address} (${household.utility}, ${household.status})`],
  ];
  if (current === null) rows.push(["period", "none open"]);
  else {
    rows.push(["period", `${current.period} (${current.phase})`]);
    rows.push([
      "cap",
      current.cap === null ? "not set yet" : `${current.cap} Wh (${current.capSource})`,
    ]);
    rows.push([
      "consumption so far",
      current.consumptionSoFar === null ? "no readings yet" : `${current.consumptionSoFar} Wh`,
    ]);
  }
  if (projection !== null) {
    const position = BigInt(projection.position);
    const elapsed = `${Number(projection.elapsedBps) / 100}% of the period elapsed`;
    rows.push(["projected month end", `${projection.projected} Wh (${elapsed})`]);
    rows.push([
      "projected position",
      position >= 0n
        ? `${position} Wh under the cap (credits)`
        : `${-position} Wh over the cap (to cover)`,
    ]);
  }
  rows.push(["balance", `${account.balance} micro-units`]);
  rows.push([
    "credits",
    account.credits.length === 0
      ? "none"
      : account.credits.map((c) => `v${c.vintage}: ${c.amount} Wh`).join(", "),
  ]);
  rows.push([
    "standing orders",
    `sell ≥ ${household.standingOrders.sell ?? "-"}, buy ≤ ${household.standingOrders.buy ?? "-"}`,
  ]);
  rows.push(["open orders", orders.items.length === 0 ? "none" : ""]);
  const orderLines = orders.items.map(
    (o) => `  ${o.id} ${o.side} ${o.qty} Wh at ${o.price}${o.standing ? " (standing)" : ""}`,
  );
  emit(values, json, [table(rows), ...orderLines].join("\n"));
  return 0;
}

async function statement(values: Values, client: WattcapClient): Promise<number> {
  const address = await householdOf(values, "statement");
  const period = u64Arg(values, "statement", "period");
  const s = await client.rpc.household_statement({ address, period: period.toString() });
  if (s === null)
    throw new CliError(`wallet: no statement for ${address} in period ${period}`, EXIT_NO_INPUT);
  const rows: [string, string][] = [
    ["household", s.household],
    ["period", `${s.period} (${s.status})`],
    ["cap", `${s.cap} Wh (${s.capSource})`],
    ["consumption", `${s.consumption} Wh${s.estimated ? " (estimated)" : ""}, peak ${s.peak} Wh`],
    ["credits minted", `${s.minted} Wh`],
    ["obligation", `${s.obligation} Wh`],
    ["bought", `${s.bought.qty} Wh for ${s.bought.value}`],
    ["sold", `${s.sold.qty} Wh for ${s.sold.value}`],
    ["surrendered", `${s.surrendered} Wh`],
    ["penalty", `${s.penalty} (${s.uncovered} Wh uncovered)`],
    ["rebate", `${s.rebate.qty} Wh for ${s.rebate.value}`],
    ["buy-back", `${s.buyback.qty} Wh for ${s.buyback.value}`],
    ["gain against no market", s.gainAgainstNoMarket],
  ];
  emit(values, s, table(rows));
  return 0;
}

/** `block H: kind {value}` for the server's {height, tx, event: {kind, value}} notifications. */
function describeEvent(event: Json): string {
  const e = event as { height?: unknown; event?: { kind?: unknown; value?: unknown } } | null;
  if (typeof e?.height !== "string" || typeof e.event?.kind !== "string")
    return JSON.stringify(event);
  return `block ${e.height}: ${e.event.kind} ${JSON.stringify(e.event.value ?? null)}`;
}

async function watch(values: Values, client: WattcapClient): Promise<number> {
  const address = await householdOf(values, "watch");
  const subscription = await client.subscribe("household", { address }, (event) => {
    emit(values, event, describeEvent(event));
  });
  process.stderr.write(`watching ${address}; Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await subscription.close();
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Transactions.

async function submit<N extends TxTypeName>(
  values: Values,
  sub: string,
  client: WattcapClient,
  type: N,
  payload: PayloadOf<N> | ((signer: Signer) => PayloadOf<N>),
): Promise<number> {
  const signer = await signerOf(values, sub, client);
  const body = typeof payload === "function" ? payload(signer) : payload;
  const sent = await signer.send(type, body);
  if (values["no-wait"]) {
    emit(
      values,
      { hash: sent.hash, nonce: sent.nonce.toString(), status: "pending" },
      `sent ${type}: ${sent.hash}`,
    );
    return 0;
  }
  const result: TxStatus = await waitForFinality(client, sent.hash);
  const reject = result.receipt?.reject ?? null;
  const ok = result.status === "finalized" && result.receipt?.outcome !== "rejected";
  emit(
    values,
    {
      hash: sent.hash,
      nonce: sent.nonce.toString(),
      status: result.status,
      height: result.height,
      reject,
      events: result.receipt?.events ?? [],
    },
    ok
      ? `${type} ${sent.hash} final in block ${result.height}`
      : `${type} ${sent.hash} REJECTED in block ${result.height ?? "-"}: ${reject ?? result.status}`,
  );
  return ok ? 0 : EXIT_DATA;
}

function householdFor(values: Values, sub: string, signer: Signer): Uint8Array {
  return parseAddress(
    values.household === undefined
      ? signer.addressText
      : addressArg(sub, "household", values.household),
  );
}

async function order(
  values: Values,
  action: string | undefined,
  client: WattcapClient,
): Promise<number> {
  if (action === "place") {
    const payload = {
      side: sideArg(values, "order"),
      qty: u64Arg(values, "order", "qty"),
      price: u64Arg(values, "order", "price"),
      expiry: expiryArg(values, "order"),
    };
    return submit(values, "order", client, "placeOrder", payload);
  }
  if (action === "cancel")
    return submit(values, "order", client, "cancelOrder", {
      orderId: hashArg(values, "order", "order"),
    });
  if (action === "replace") {
    const payload = {
      orderId: hashArg(values, "order", "order"),
      qty: u64Arg(values, "order", "qty"),
      price: u64Arg(values, "order", "price"),
      expiry: expiryArg(values, "order"),
    };
    return submit(values, "order", client, "replaceOrder", payload);
  }
  throw usage(
    "order",
    action === undefined ? "expected place, cancel or replace" : `unknown action '${action}'`,
  );
}

async function standing(
  values: Values,
  action: string | undefined,
  client: WattcapClient,
): Promise<number> {
  if (action === "set") {
    const side = sideArg(values, "standing");
    const price = u64Arg(values, "standing", "price");
    return submit(values, "standing", client, "setStandingOrder", (s) => ({
      household: householdFor(values, "standing", s),
      side,
      price,
    }));
  }
  if (action === "clear") {
    const side = sideArg(values, "standing");
    return submit(values, "standing", client, "clearStandingOrder", (s) => ({
      household: householdFor(values, "standing", s),
      side,
    }));
  }
  throw usage(
    "standing",
    action === undefined ? "expected set or clear" : `unknown action '${action}'`,
  );
}

async function delegate(values: Values, client: WattcapClient): Promise<number> {
  const appKey = values["app-key"];
  if ((appKey === undefined) === !values.clear)
    throw usage("delegate", "give exactly one of --app-key ADDR and --clear");
  const payload = {
    appKey:
      appKey === undefined ? undefined : parseAddress(addressArg("delegate", "app-key", appKey)),
  };
  return submit(values, "delegate", client, "delegateAppKey", payload);
}

async function transfer(values: Values, client: WattcapClient): Promise<number> {
  const payload = {
    to: parseAddress(addressArg("transfer", "to", need(values, "transfer", "to"))),
    vintage: u64Arg(values, "transfer", "vintage"),
    qty: u64Arg(values, "transfer", "qty"),
  };
  return submit(values, "transfer", client, "transferCredits", payload);
}

// ---------------------------------------------------------------------------------------------

const NETWORKED: Record<
  string,
  (v: Values, action: string | undefined, c: WattcapClient) => Promise<number>
> = {
  balance: (v, _a, c) => balance(v, c),
  status: (v, _a, c) => status(v, c),
  statement: (v, _a, c) => statement(v, c),
  watch: (v, _a, c) => watch(v, c),
  order,
  standing,
  delegate: (v, _a, c) => delegate(v, c),
  transfer: (v, _a, c) => transfer(v, c),
};

const WITH_ACTION = new Set(["order", "standing"]);

async function dispatch(values: Values, positionals: string[]): Promise<number> {
  const [sub, action, ...rest] = positionals;
  if (sub === undefined) throw usage(undefined, "expected a command");
  if (!Object.hasOwn(SUBCOMMANDS, sub)) throw usage(undefined, `unknown command '${sub}'`);
  const extra = WITH_ACTION.has(sub) ? rest : action === undefined ? rest : [action, ...rest];
  if (extra.length > 0) throw usage(sub, `unexpected argument '${extra[0]}'`);
  if (sub === "create") return addKey(values, generateSecretKey());
  if (sub === "import") return addKey(values, await readSecret(values));
  if (sub === "list") return list(values);
  const command = NETWORKED[sub]!;
  const client = await clientOf(values);
  try {
    return await command(values, action, client);
  } finally {
    client.close();
  }
}

export async function run(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (error) {
    throw usage(undefined, (error as Error).message.replace(/\.$/, ""));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usageText(positionals[0]));
    return 0;
  }
  try {
    return await dispatch(values, positionals);
  } catch (error) {
    throw cliError(error);
  }
}
