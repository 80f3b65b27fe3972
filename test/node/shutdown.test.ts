import { spawn } from "node:child_process";
import { EventEmitter, once } from "node:events";
import { fileURLToPath } from "node:url";
import t from "tap";
import { silentLogger } from "../../lib/log.js";
import { Shutdown, type ShutdownSignal, type SignalSource } from "../../node/shutdown.js";

function harness(timeoutMs = 1000) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  const order: string[] = [];
  const shutdown = new Shutdown({
    logger: silentLogger(),
    timeoutMs,
    exit: (code) => exits.push(code),
    signals: signals as unknown as SignalSource,
  });
  const send = (signal: ShutdownSignal) => signals.emit(signal);
  return { shutdown, signals, exits, order, send };
}

t.test("a signal closes the parts in reverse order, then exits 0", async (t) => {
  const h = harness();
  h.shutdown.register("wal", () => {
    h.order.push("wal");
  });
  h.shutdown.register("store", async () => {
    await new Promise((r) => setTimeout(r, 5));
    h.order.push("store");
  });
  h.shutdown.register("rpc", () => {
    h.order.push("rpc");
  });
  h.shutdown.install();
  h.shutdown.install(); // idempotent: one handler per signal
  t.equal(h.signals.listenerCount("SIGTERM"), 1);
  t.notOk(h.shutdown.stopping);
  h.send("SIGTERM");
  t.ok(h.shutdown.stopping);
  t.equal(await h.shutdown.run("again"), 0, "run() returns the same shutdown");
  t.same(h.order, ["rpc", "store", "wal"]);
  t.same(h.exits, [0], "exits once");
  t.throws(() => h.shutdown.register("late", () => undefined), /shutdown has begun/);
  h.shutdown.uninstall();
  t.equal(h.signals.listenerCount("SIGTERM"), 0);
  t.equal(h.signals.listenerCount("SIGINT"), 0);
});

t.test("a failing part is logged, the others still close, and the status is 1", async (t) => {
  const h = harness();
  h.shutdown.register("wal", () => {
    h.order.push("wal");
  });
  h.shutdown.register("p2p", () => {
    throw new Error("boom");
  });
  h.shutdown.register("rpc", async () => {
    h.order.push("rpc");
  });
  t.equal(await h.shutdown.run("test"), 1);
  t.same(h.order, ["rpc", "wal"]);
  t.same(h.exits, [1]);
});

t.test("the budget runs out: exit 1 without waiting for the rest", async (t) => {
  const h = harness(30);
  h.shutdown.register("wal", () => {
    h.order.push("wal");
  });
  h.shutdown.register("hung", () => new Promise<void>(() => undefined));
  t.equal(await h.shutdown.run("test"), 1);
  t.same(h.order, [], "parts after the hung one are not waited for");
  t.same(h.exits, [1]);
});

t.test("a second signal forces an immediate exit", async (t) => {
  const h = harness();
  let release!: () => void;
  h.shutdown.register("slow", () => new Promise<void>((r) => (release = r)));
  h.shutdown.install();
  h.send("SIGINT");
  await new Promise((r) => setImmediate(r));
  h.send("SIGINT");
  t.same(h.exits, [130], "128 + SIGINT");
  h.send("SIGTERM");
  t.same(h.exits, [130, 143], "128 + SIGTERM");
  release();
  await h.shutdown.run("x");
  t.same(h.exits, [130, 143, 0]);
});

const CHILD = fileURLToPath(new URL("./fixtures/shutdown-child.js", import.meta.url));

async function startChild(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CHILD], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  let output = "";
  child.stdout!.on("data", (c) => {
    output += c;
  });
  while (!output.includes("ready\n")) await once(child.stdout!, "data");
  return { child, output: () => output };
}

t.test("a real process: SIGTERM closes everything and exits 0", async (t) => {
  const { child, output } = await startChild();
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  t.equal(code, 0);
  t.equal(output(), "ready\nclosed rpc\nclosed p2p\nclosed store\n");
});

t.test("a real process: SIGINT twice while a part hangs exits 130 at once", async (t) => {
  const { child, output } = await startChild({ HANG: "1", TIMEOUT_MS: "60000" });
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  const exited = once(child, "exit");
  child.kill("SIGINT");
  while (!output().includes("closed rpc")) await once(child.stdout!, "data");
  child.kill("SIGINT");
  const [code] = await exited;
  t.equal(code, 130);
  t.notMatch(output(), /closed store/);
});
