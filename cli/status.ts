// `wattcap status [--home DIR | --url URL] [--json]`: asks a running node for GET /status on its
// metrics port and prints it. With --home, the address comes from the home's config (a node
// listening on every interface is asked on the loopback address).
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, resolveHome } from "../node/config.js";
import type { NodeStatus } from "../node/node.js";
import { CliError, commandArgs, EXIT_CONFIG, EXIT_UNAVAILABLE } from "./usage.js";

const USAGE = `Usage: wattcap status [--home DIR | --url http://HOST:PORT] [--json]

Prints a running node's status: chain, head, consensus round, peers, sync state.

Options:
  --home DIR    read the metrics address from DIR/config.json (default: $WATTCAP_HOME,
                else ~/.wattcap)
  --url URL     the node's metrics server, e.g. http://127.0.0.1:26660
  --json        print the status as one JSON object
  -h, --help    show this help
`;

const HINT = "Run 'wattcap status --help'.";
const TIMEOUT_MS = 5000;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    strict: true,
    options: {
      home: { type: "string" },
      url: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

async function baseUrl(home: string | undefined, url: string | undefined): Promise<string> {
  if (url !== undefined) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
    } catch {
      throw new CliError(`status: --url must be an http:// URL, got ${url}. ${HINT}`);
    }
    return url.replace(/\/+$/, "");
  }
  try {
    const config = await loadConfig({ home: resolveHome(home) });
    if (!config.metrics.enabled) {
      throw new CliError(
        "status: the node's metrics server is disabled (metrics.enabled = false)",
        EXIT_CONFIG,
      );
    }
    return `http://${hostForUrl(config.metrics.host)}:${config.metrics.port}`;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`status: ${error.message}`, EXIT_CONFIG);
    throw error;
  }
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs("status", HINT, USAGE, () => parse(args));
  if (parsed === undefined) return 0;
  const { values } = parsed;
  if (values.home !== undefined && values.url !== undefined) {
    throw new CliError(`status: give --home or --url, not both. ${HINT}`);
  }
  const url = `${await baseUrl(values.home, values.url)}/status`;
  let status: NodeStatus;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    status = (await response.json()) as NodeStatus;
  } catch (error) {
    throw new CliError(
      `status: no node answered at ${url} (${(error as Error).message})`,
      EXIT_UNAVAILABLE,
    );
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(status)}\n`);
    return 0;
  }
  const lines = [
    `chain:      ${status.chainId} (genesis ${status.genesisHash})`,
    `height:     ${status.height} (${status.blockHash})`,
    `time:       ${new Date(status.time).toISOString()}`,
    `state root: ${status.stateRoot}`,
    `consensus:  height ${status.height + 1} round ${status.round} ${status.step}`,
    `role:       ${status.role}${status.validatorAddress ? ` ${status.validatorAddress}` : ""}`,
    `peers:      ${status.peers}${status.syncing ? " (syncing)" : ""}`,
    `peer id:    ${status.peerId}`,
    ...status.p2pAddresses.map((a) => `listening:  ${a}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
