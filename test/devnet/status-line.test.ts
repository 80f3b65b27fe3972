import t from "tap";
import { periodClock, renderStatus } from "../../devnet/status-line.js";
import type { DevnetNode } from "../../devnet/supervisor.js";
import type { NodeStatus } from "../../node/node.js";

const node = (name: string, role: DevnetNode["role"]): DevnetNode => ({
  name,
  role,
  home: `/h/${name}`,
  p2pPort: 1,
  metricsPort: 2,
  rpcPort: 3,
  peerId: "p",
});
const nodes = [node("v0", "validator"), node("v1", "validator"), node("follower", "follower")];
const status = (height: number, syncing = false) => ({ height, syncing }) as NodeStatus;
// Periods of 100 s from t = 1000 s; grace 10 s, trading 25 s.
const clock = periodClock({
  periods: { startMs: "1000000", lengthMs: "100000", genesisMonth: 0 },
  utilities: [{ policy: { readingGrace: "10000", tradingWindow: "25000" } }],
});

t.test("before the first period", async (t) => {
  const line = renderStatus(nodes, [status(3), status(2), status(1)], clock, 999_000n);
  t.equal(line, "height 3 | validators 2/2 | follower at 1 | period 0 starts soon");
});

t.test("a period's phase and progress, and the previous period's phase", async (t) => {
  const half = renderStatus(nodes, [status(9), undefined, undefined], clock, 1_050_000n);
  t.equal(
    half,
    `height 9 | validators 1/2 | follower down | period 0 open ${"█".repeat(10)}${"░".repeat(10)}`,
  );
  const next = renderStatus(nodes, [status(9), status(9), status(4, true)], clock, 1_105_000n);
  t.equal(
    next,
    `height 9 | validators 2/2 | follower syncing | period 1 open █${"░".repeat(19)} | period 0 reading-grace`,
  );
  t.match(renderStatus(nodes, [], clock, 1_115_000n), /period 0 trading$/);
});

t.test("market figures appear once known", async (t) => {
  const line = renderStatus(nodes, [status(1), status(1), status(1)], clock, 1_000_000n, {
    readings: 1200n,
    orders: 7n,
    lastClearingPrice: 42n,
  });
  t.match(line, / \| readings 1200 \| orders 7 \| clearing 42$/);
  t.notMatch(renderStatus(nodes, [], clock, 1_000_000n, { orders: 0n }), /readings|clearing/);
});
