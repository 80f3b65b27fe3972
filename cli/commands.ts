/** A subcommand's module: `run` gets the arguments after the command name, returns an exit code. */
export interface CommandModule {
  run(args: string[]): Promise<number>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  load(): Promise<CommandModule>;
}

// Each issue adds its subcommands here; the dispatcher and `--help` read this list.
export const commands: readonly Command[] = [
  {
    name: "devnet",
    summary: "Run a local network: validators and a follower with RPC and the explorer",
    load: () => import("./devnet.js"),
  },
  {
    name: "scenario",
    summary: "Run the household experiment on a devnet and write its report (--compare: every arm)",
    load: () => import("./scenario.js"),
  },
  {
    name: "state",
    summary: "Inspect a node's store: head, state root, integrity check",
    load: () => import("./state.js"),
  },
  {
    name: "init",
    summary: "Create a node's home: keys and config",
    load: () => import("./init.js"),
  },
  { name: "keys", summary: "Create or show a key file", load: () => import("./keys.js") },
  {
    name: "genesis",
    summary: "Create a genesis file from a network description, or validate one",
    load: () => import("./genesis.js"),
  },
  { name: "start", summary: "Run a node until SIGINT/SIGTERM", load: () => import("./start.js") },
  {
    name: "status",
    summary: "Show a running node's status (GET /status)",
    load: () => import("./status.js"),
  },
  {
    name: "snapshot",
    summary: "Export or import the state at the head, anchored to its commit",
    load: () => import("./snapshot.js"),
  },
  {
    name: "oracle",
    summary: "Run the meter oracle; its status; backfill a meter file",
    load: () => import("./oracle.js"),
  },
  {
    name: "wallet",
    summary: "A household's wallet: keys, balance (proven), orders, standing orders, transfers",
    load: () => import("./wallet.js"),
  },
  {
    name: "explorer",
    summary: "Serve the block explorer alone against any node's RPC URL",
    load: () => import("./explorer.js"),
  },
];
