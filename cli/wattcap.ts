#!/usr/bin/env node
// The `wattcap` command: a thin dispatcher. Each subcommand lives in its own module and is
// loaded only when called, so `wattcap wallet` never pays for libp2p's start-up.
import "../lib/polyfill.js";
import { commands } from "./commands.js";
import { CliError, EXIT_USAGE, printUsage } from "./usage.js";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    printUsage(process.stdout);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "--version") {
    console.log("wattcap 0.1.0");
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`wattcap: unknown command '${name}'. Run 'wattcap --help'.\n`);
    return EXIT_USAGE;
  }
  const module = await command.load();
  return module.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof CliError) {
      process.stderr.write(`wattcap: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(
        `wattcap: internal error: ${(error as Error)?.stack ?? String(error)}\n`,
      );
      process.exitCode = 70;
    }
  },
);
