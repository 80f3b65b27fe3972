// Disk faults. A validator whose disk fills up during commits stops advancing without storing
// anything half-written, the others go on, and once space is back it restarts and catches up.
// A damaged store — a garbage head block, a broken state tree, an unreadable LevelDB manifest,
// a database that silently lost its newest commits — makes `wattcap start` refuse to run with
// a one-line reason and the data-error status, instead of serving wrong state.
import { execFileSync } from "node:child_process";
import { cp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import t from "tap";
import { concatBytes, u64be } from "../../lib/bytes.js";
import { homePaths } from "../../node/home.js";
import { buckets } from "../../state/buckets.js";
import { WriteBatch } from "../../state/db.js";
import { Store } from "../../state/store.js";
import { Testnet } from "../harness/testnet.js";
import { assertAgreement } from "./agreement.js";

const EXIT_DATA = 65;

function mount(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: "ignore" });
}

t.test("a full disk during commits: no partial state, recovery once space is back", async (t) => {
  const net = await Testnet.create({ validators: 4 }, t);
  const validators = net.validators;
  // v3's whole home on a 16 MiB tmpfs (the machine runs tests as root; see docs/guarantees.md).
  const home = net.node("v3").home;
  await cp(home, `${home}.orig`, { recursive: true });
  await rm(home, { recursive: true });
  execFileSync("mkdir", [home]);
  try {
    mount(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", home]);
  } catch (error) {
    throw new Error("mounting a tmpfs needs root, as docs/guarantees.md says", { cause: error });
  }
  let mounted = true;
  t.teardown(() => {
    if (mounted) mount(["umount", "-l", home]);
  });
  await cp(`${home}.orig`, home, { recursive: true });
  const filler = join(home, "filler");

  for (const name of validators) net.start(name);
  await net.waitForHeight(validators, 3, 60_000);
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=64k"], { stdio: "ignore" });
  } catch {
    // dd stops with ENOSPC: the disk is full, as wanted.
  }
  const full = await net.maxHeight(validators);
  const honest = ["v0", "v1", "v2"];
  await net.waitForHeight(honest, full + 4, 60_000);
  await net.waitFor(
    "v3 to hit ENOSPC",
    async () => (await readFile(net.node("v3").log, "utf8")).includes("No space left on device"),
    30_000,
  );
  const stuck = (await net.status("v3"))?.height ?? 0;
  const ahead = Math.min(...((await net.heights(honest)) ?? [0]));
  t.ok(stuck < ahead, `v3 stopped at ${stuck} on a full disk while the others reached ${ahead}`);

  // A crash while the disk is still full, then space comes back and v3 starts again.
  await net.kill("v3");
  await rm(filler);
  net.start("v3");
  const target = await net.maxHeight(honest);
  await net.waitForHeight(["v3"], target, 90_000);
  t.pass(`v3 restarted after the disk was freed and caught up to ${target}`);

  await assertAgreement(t, net);
  // Unmounted here, before the testnet's teardown removes its directory.
  mount(["umount", home]);
  mounted = false;
});

/** Rewrites one raw record of a stopped node's store. */
async function overwrite(data: string, key: Uint8Array, value: Uint8Array): Promise<void> {
  const store = await Store.open(data, { create: false });
  try {
    const batch = new WriteBatch();
    batch.put(key, value);
    await store.db.write(batch, { sync: true });
  } finally {
    await store.close();
  }
}

async function largest(dir: string, suffix: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(suffix));
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size));
  const i = sizes.indexOf(Math.max(...sizes));
  return join(dir, files[i]!);
}

t.test("a corrupted store refuses to start with a clear message", async (t) => {
  const net = await Testnet.create({ validators: 1 }, t);
  const { home } = net.node("v0");
  const data = homePaths(home).data;
  net.start("v0");
  await net.waitForHeight(["v0"], 8, 60_000);
  await net.stop("v0");
  const pristine = `${data}.pristine`;
  await cp(data, pristine, { recursive: true });
  const head = (await Store.open(data, { create: false }).then(async (s) => {
    const h = s.head()?.height;
    await s.close();
    return h;
  }))!;

  const damages: [string, () => Promise<void>][] = [
    [
      "the head block replaced by garbage",
      () =>
        overwrite(
          data,
          concatBytes(Uint8Array.of(buckets.block.prefix), u64be(head)),
          new TextEncoder().encode("not a block"),
        ),
    ],
    [
      "the head's state tree root record replaced by garbage",
      () =>
        overwrite(
          data,
          concatBytes(Uint8Array.of(buckets.smtRoot.prefix), u64be(head)),
          new Uint8Array(40).fill(7),
        ),
    ],
    [
      "an unreadable LevelDB manifest",
      async () => {
        const manifest = (await readdir(data)).find((f) => f.startsWith("MANIFEST-"))!;
        await writeFile(join(data, manifest), "garbage garbage garbage");
      },
    ],
    [
      "a LevelDB log damaged halfway (LevelDB silently drops what follows)",
      async () => {
        const log = await largest(data, ".log");
        const bytes = await readFile(log);
        bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 64);
        await writeFile(log, bytes);
      },
    ],
  ];
  for (const [what, damage] of damages) {
    await rm(data, { recursive: true });
    await cp(pristine, data, { recursive: true });
    await damage();
    const before = (await readFile(net.node("v0").log, "utf8")).length;
    net.start("v0");
    const code = await net.exited("v0", 30_000);
    const said = (await readFile(net.node("v0").log, "utf8")).slice(before).trim();
    t.equal(code, EXIT_DATA, `${what}: exits with the data-error status`);
    t.match(said, /^wattcap: start: .*\[CORRUPT\]$/s, `${what}: says why in one line: ${said}`);
    t.notMatch(said, /internal error|\n\s+at /, `${what}: no stack trace`);
  }

  await rm(data, { recursive: true });
  await cp(pristine, data, { recursive: true });
  net.start("v0");
  await net.waitForHeight(["v0"], Number(head) + 2, 60_000);
  t.pass("the undamaged store starts and goes on committing");
});
