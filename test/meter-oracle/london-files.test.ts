// One pass over a London CSV for all the meters fed from it: each meter gets exactly the rows a
// pass of its own would give, a meter that stops or comes late holds up no one, and a file that
// cannot be read fails every meter reading it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import type { IntervalReading } from "../../meter-oracle/interval.js";
import { LondonFiles } from "../../meter-oracle/service/london-files.js";

const ROWS = 4500; // over the reader's per-meter bound, so it has to wait for slow meters
const IDS = ["MAC000001", "MAC000002", "MAC000003"];

function csv(grouped: boolean): string {
  const start = Date.UTC(2013, 0, 1);
  const row = (id: string, i: number) => {
    const stamp = new Date(start + (i + 1) * 1_800_000)
      .toISOString()
      .slice(0, 19)
      .replace("T", " ");
    return `${id},Std,${stamp}.0000000,${((i % 900) / 1000).toFixed(3)}`;
  };
  const rows: string[] = [];
  if (grouped) for (const id of IDS) for (let i = 0; i < ROWS; i++) rows.push(row(id, i));
  else for (let i = 0; i < ROWS; i++) for (const id of IDS) rows.push(row(id, i));
  return `LCLid,stdorToU,DateTime,KWH/hh (per half hour) \n${rows.join("\n")}\n`;
}

async function collect(
  source: AsyncIterable<IntervalReading>,
  options: { slow?: boolean; stopAfter?: number } = {},
): Promise<IntervalReading[]> {
  const out: IntervalReading[] = [];
  for await (const interval of source) {
    out.push(interval);
    if (options.slow && out.length % 500 === 0) await new Promise((r) => setTimeout(r, 1));
    if (out.length === options.stopAfter) break;
  }
  return out;
}

t.test("meters share one pass and each gets its own rows", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-london-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const grouped of [true, false]) {
    const path = join(dir, `${grouped ? "grouped" : "interleaved"}.csv`);
    await writeFile(path, csv(grouped));
    const alone = await Promise.all(
      IDS.map((id) => collect(new LondonFiles().intervals(path, id))),
    );
    t.same(
      alone.map((a) => a.length),
      [ROWS, ROWS, ROWS],
      "a pass per meter reads each meter's rows",
    );

    const files = new LondonFiles();
    const shared = await Promise.all([
      collect(files.intervals(path, IDS[0]!), { slow: true }),
      collect(files.intervals(path, IDS[1]!), { stopAfter: 10 }),
      collect(files.intervals(path, IDS[2]!)),
    ]);
    t.equal(files.passes, 1, `${grouped ? "grouped" : "interleaved"}: one pass`);
    t.same(shared[0], alone[0], "a slow meter gets every row");
    t.same(shared[1], alone[1]?.slice(0, 10), "a meter that stops early holds up no one");
    t.same(shared[2], alone[2]);

    const late = await collect(files.intervals(path, IDS[0]!));
    t.equal(files.passes, 2, "a meter after the pass began gets a pass of its own");
    t.same(late, alone[0]);
  }
});

t.test("a file that cannot be read fails every meter reading it", async (t) => {
  const files = new LondonFiles();
  const missing = join(tmpdir(), "wattcap-no-such-london-file.csv");
  const results = await Promise.allSettled(IDS.map((id) => collect(files.intervals(missing, id))));
  t.same(
    results.map((r) => r.status),
    ["rejected", "rejected", "rejected"],
  );
});
