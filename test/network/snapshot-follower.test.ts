// A follower that starts from another node's snapshot instead of genesis: it verifies the
// snapshot, holds no block below it, and follows the validators at the head.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import t from "tap";
import { CLI, Testnet } from "../harness/testnet.js";

const run = promisify(execFile);
const wattcap = (...args: string[]) => run(process.execPath, [CLI, ...args]);

t.test("a follower started from a snapshot follows at the head", async (t) => {
  const net = await Testnet.create({ validators: 1, followers: 2 }, t);
  net.start("v0");
  net.start("f0");
  await net.waitForHeight(["v0", "f0"], 4, 30_000);

  // The node must be stopped to export; f0 goes back to following afterwards.
  t.equal(await net.stop("f0"), 0, "f0 stopped cleanly");
  const file = join(net.dir, "f0.snapshot");
  const exported = JSON.parse(
    (await wattcap("snapshot", "export", "--home", net.node("f0").home, "--out", file, "--json"))
      .stdout,
  ) as { height: number };
  const height = exported.height;
  t.ok(height >= 4, `snapshot at height ${height}`);
  net.start("f0");

  const imported = JSON.parse(
    (await wattcap("snapshot", "import", "--home", net.node("f1").home, "--file", file, "--json"))
      .stdout,
  ) as { height: number };
  t.equal(imported.height, exported.height, "f1's store starts at the snapshot's height");
  net.start("f1");
  const head = await net.maxHeight(["v0"]);
  await net.waitForHeight(["f1"], head + 2, 45_000);
  t.pass(`f1 followed from ${height} past ${head + 1}`);

  await Promise.all(["v0", "f0", "f1"].map((name) => net.stop(name)));
  const [v0, f1] = [await net.chainOf("v0"), await net.chainOf("f1")];
  t.notOk(f1.has(1n), "f1 holds no block below its snapshot");
  let compared = 0;
  for (const [h, block] of f1) {
    t.same(block, v0.get(h), `block ${h} as v0 stored it`);
    compared++;
  }
  t.ok(compared >= 2, `f1 stored ${compared} blocks after the snapshot, all as v0 did`);
});
