// The wallet's password: WATTCAP_PASSWORD, else a prompt on the terminal with echo off. With
// neither (CI, a pipe) it fails with a clear message rather than waiting on input that will
// never come. Node only.
import { KeystoreError } from "./keystore.js";

export const PASSWORD_ENV = "WATTCAP_PASSWORD";

export class PromptError extends Error {
  override name = "PromptError";
}

/** Reads one line from the terminal without echoing it; Ctrl-C aborts. */
function readHidden(question: string): Promise<string> {
  const input = process.stdin;
  const output = process.stderr;
  return new Promise((resolve, reject) => {
    let typed = "";
    output.write(question);
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener("data", onData);
      output.write("\n");
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003") return finish(new PromptError("cancelled"));
        if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
        else if (ch >= " ") typed += ch;
      }
    };
    input.on("data", onData);
  });
}

/**
 * The password to unlock or (with `confirm`) to create a key. An empty password is refused: a
 * keystore under "" is as good as plain text.
 */
export async function getPassword(purpose: string, confirm = false): Promise<string> {
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined) {
    if (fromEnv.length === 0) throw new KeystoreError("BAD_SECRET", `${PASSWORD_ENV} is empty`);
    return fromEnv;
  }
  if (!process.stdin.isTTY) {
    throw new PromptError(
      `a password is needed to ${purpose}: set ${PASSWORD_ENV} or run in a terminal`,
    );
  }
  const password = await readHidden(`Password to ${purpose}: `);
  if (password.length === 0) throw new PromptError("the password must not be empty");
  if (confirm && (await readHidden("Repeat the password: ")) !== password) {
    throw new PromptError("the passwords do not match");
  }
  return password;
}
