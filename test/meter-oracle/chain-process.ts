// A node in a process of its own for the oracle's end-to-end test, so the test can SIGKILL it
// and start it again: the on-demand chain (test/rpc/manual-chain.ts) over a store in a given
// directory, served by the real RPC server on a given port. Started with
// `node chain-process.js DIR GENESIS_FILE PORT` over an IPC channel, it answers
//   {kind: "produce"}        → {kind: "produced", height, time} after one block;
//   {kind: "auto", on}       → {kind: "auto", on}; while on, a block every 15 ms;
// and sends {kind: "ready", height, time} once it listens. A restart on the same directory
// resumes at the stored head, with whatever the mempool held lost, as after a real crash.
import { readFile } from "node:fs/promises";
import { buildGenesis } from "../../node/genesis.js";
import { nodeRpcBackend } from "../../node/rpc-backend.js";
import { startRpcServer } from "../../rpc/server.js";
import { openManualChain } from "../rpc/manual-chain.js";

export type ChainCommand =
  | { readonly kind: "produce" }
  | { readonly kind: "auto"; readonly on: boolean };

export type ChainReply =
  | { readonly kind: "ready" | "produced"; readonly height: string; readonly time: string }
  | { readonly kind: "auto"; readonly on: boolean };

const [dir, genesisFile, port] = process.argv.slice(2);
if (!dir || !genesisFile || !port) throw new Error("usage: chain-process DIR GENESIS_FILE PORT");

const genesis = buildGenesis(JSON.parse(await readFile(genesisFile, "utf8")));
const node = await openManualChain(dir, genesis);
await startRpcServer(nodeRpcBackend(node), { host: "127.0.0.1", port: Number(port) });

const send = (reply: ChainReply) => process.send?.(reply);
const head = () => ({
  height: node.chain.head().height.toString(),
  time: node.clock.now().toString(),
});

// One block at a time, whether asked for or made by the loop.
let queue: Promise<unknown> = Promise.resolve();
const produce = () => {
  queue = queue.then(() => node.produce());
  return queue;
};
let auto = false;
const loop = async () => {
  while (auto) {
    await produce();
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
};

process.on("message", (command: ChainCommand) => {
  if (command.kind === "produce") {
    void produce().then(() => send({ kind: "produced", ...head() }));
  } else {
    const start = command.on && !auto;
    auto = command.on;
    if (start) void loop();
    // Replied to after the block under way, so no block is made once "off" is answered.
    void queue.then(() => send({ kind: "auto", on: auto }));
  }
});
// The test's end: the channel closes and the process goes with it.
process.on("disconnect", () => process.exit(0));
send({ kind: "ready", ...head() });
