import { commands } from "./commands.js";

/** Exit codes follow sysexits(3), so scripts can tell a typo from a failure. */
export const EXIT_USAGE = 64;
export const EXIT_DATA = 65;
export const EXIT_UNAVAILABLE = 69;
export const EXIT_SOFTWARE = 70;
/** An output file (or home) exists and will not be overwritten. */
export const EXIT_CANT_CREATE = 73;
export const EXIT_IO = 74;
export const EXIT_CONFIG = 78;

/** A failure the user can act on: printed as one line, no stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
  }
}

export function printUsage(out: NodeJS.WritableStream): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  out.write("Usage: wattcap <command> [options]\n\nCommands:\n");
  for (const c of commands) out.write(`  ${c.name.padEnd(width)}  ${c.summary}\n`);
  out.write("\nRun 'wattcap <command> --help' for a command's options.\n");
}

/**
 * A subcommand's parsed arguments: a parse error becomes a usage error naming the command, with
 * its hint; `--help` prints the usage text and yields undefined, for the command to exit 0.
 */
export function commandArgs<P extends { values: { help?: boolean } }>(
  command: string,
  hint: string,
  usage: string,
  parse: () => P,
): P | undefined {
  let parsed: P;
  try {
    parsed = parse();
  } catch (error) {
    const message = (error as Error).message.replace(/\.$/, "");
    throw new CliError(`${command}: ${message}. ${hint}`, EXIT_USAGE);
  }
  if (parsed.values.help) {
    process.stdout.write(usage);
    return undefined;
  }
  return parsed;
}
