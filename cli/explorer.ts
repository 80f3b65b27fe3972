// `wattcap explorer --rpc URL [--port N] [--host H]`: serves the block explorer alone, pointed
// at any node's RPC (the node must allow this origin: its rpc.cors setting).
import { parseArgs } from "node:util";
import { startExplorerServer } from "../explorer/serve.js";
import { CliError, EXIT_SOFTWARE, EXIT_USAGE } from "./usage.js";

const USAGE = `Usage: wattcap explorer --rpc http://HOST:PORT/ [--port N] [--host HOST]

Serves the block explorer's static files and points them at the given JSON-RPC URL.

Options:
  --rpc URL     the node's JSON-RPC URL (HTTP POST; WebSocket at /ws on the same port)
  --port N      port to listen on (default 8080; 0 picks a free one)
  --host HOST   address to listen on (default 127.0.0.1)
  -h, --help    show this help
`;

export async function run(args: string[]): Promise<number> {
  let values: { rpc?: string; port?: string; host?: string; help?: boolean };
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        rpc: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new CliError(
      `explorer: ${(e as Error).message}. Run 'wattcap explorer --help'.`,
      EXIT_USAGE,
    );
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const rpc = values.rpc;
  if (rpc === undefined || !/^https?:\/\/[^\s]+$/.test(rpc)) {
    throw new CliError(
      "explorer: --rpc must be an http(s):// URL. Run 'wattcap explorer --help'.",
      EXIT_USAGE,
    );
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`explorer: --port must be 0..65535, got ${values.port}`, EXIT_USAGE);
  }
  let server: Awaited<ReturnType<typeof startExplorerServer>>;
  try {
    server = await startExplorerServer({ rpcUrl: rpc, port, host: values.host });
  } catch (e) {
    throw new CliError(`explorer: ${(e as Error).message}`, EXIT_SOFTWARE);
  }
  process.stdout.write(`explorer: ${server.url} (RPC ${rpc})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.app.close();
  return 0;
}
