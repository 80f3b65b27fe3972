// `wattcap devnet`: lays out (or resumes) a local network, runs its nodes as separate processes,
// prints where to reach it and a live status line, and stops everything on Ctrl-C.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DEVNET_USAGE, parseDevnetArgs } from "../devnet/options.js";
import { devnetHouseholds } from "../devnet/simulation.js";
import { fetchStatus, periodClock, renderStatus } from "../devnet/status-line.js";
import { nodeProcess, prepareDevnet, Supervisor } from "../devnet/supervisor.js";

export async function run(args: string[]): Promise<number> {
  const options = parseDevnetArgs(args);
  if (options === "help") {
    console.log(DEVNET_USAGE);
    return 0;
  }
  const { layout, dir, resumed } = await prepareDevnet(options, BigInt(Date.now()));
  const genesis = JSON.parse(await readFile(join(dir, "genesis.json"), "utf8"));
  const clock = periodClock(genesis);
  const tty = process.stdout.isTTY === true;
  const say = (line: string) => process.stdout.write(`${tty ? "\r\x1b[K" : ""}${line}\n`);

  const households =
    options.households > 0 ? await devnetHouseholds(dir, layout, options, genesis, say) : undefined;
  const processes = layout.nodes.map(nodeProcess);
  if (households) processes.push(households.oracle);
  const supervisor = new Supervisor(processes, dir, say);
  supervisor.start();
  const simulation = new AbortController();
  const rpc = `127.0.0.1:${options.rpcPort}`;
  say(`Wattcap devnet ${resumed ? "resumed" : "created"} in ${dir}`);
  say(
    `  ${layout.validators} validators (one utility each) and a follower, market mode ${layout.mode}`,
  );
  say(`  JSON-RPC   http://${rpc}/`);
  say(`  WebSocket  ws://${rpc}/ws`);
  say(`  Explorer   http://${rpc}/explorer/`);
  if (households) {
    say(
      `  Households ${options.households} of utility u0, metered by the oracle (logs/oracle.log); ` +
        "they join from period 1",
    );
  }
  say(`  Logs       ${join(dir, "logs")}; Ctrl-C stops the network, starting again resumes it`);

  const simulated = households?.run(simulation.signal);
  let polls = 0;
  const poll = setInterval(async () => {
    const statuses = await Promise.all(layout.nodes.map(fetchStatus));
    const market = await households?.figures().catch(() => undefined);
    const line = renderStatus(layout.nodes, statuses, clock, BigInt(Date.now()), market);
    // On a terminal the line is rewritten in place; in a log, one line every five seconds.
    if (tty) process.stdout.write(`\r\x1b[K${line}`);
    else if (polls++ % 5 === 0) console.log(line);
  }, 1000);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  clearInterval(poll);
  simulation.abort();
  // The simulation stops between steps; a transaction it is waiting on need not be awaited.
  await Promise.race([simulated, new Promise((r) => setTimeout(r, 3000).unref())]);
  households?.close();
  say("stopping the devnet…");
  await supervisor.stop();
  say("stopped");
  return 0;
}
