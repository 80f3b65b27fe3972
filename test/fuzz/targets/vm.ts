// Fuzz target: the vm's block loop (vm/apply.ts). Blocks of random transactions — valid, refused
// by a state rule, and broken at the block level — over a world with credits, obligations and an
// open trading window, then on through compliance, the next period's finalisation (on
// estimates) and expiry. Promise: applyBlock never throws; a block it refuses is refused with a
// block-level reject code; every receipt and reading result carries a known code of its level;
// and the money and credit invariants (the vm tests' checker) hold after every block.
import fc from "fast-check";
import { isRejectCode, rejectLevel } from "../../../vm/codes.js";
import type { Receipt } from "../../../vm/receipt.js";
import { brokenInvariants } from "../../vm/fixtures/trading/invariants.js";
import { at } from "../../vm/helpers.js";
import { check, FuzzFailure, type FuzzReport, type FuzzTarget } from "./fuzz.js";
import { type TxPlan, txPlans, World } from "./world.js";

type Level = "block" | "tx" | "reading";

function expectLevel(code: unknown, levels: readonly Level[], where: string): void {
  if (!isRejectCode(code)) throw new FuzzFailure(`${where}: unknown code ${String(code)}`);
  if (!levels.includes(rejectLevel(code))) {
    throw new FuzzFailure(`${where}: ${code} is a ${rejectLevel(code)} code, not ${levels}`);
  }
}

function checkReceipt(receipt: Receipt, type: string, where: string): void {
  // replaceMeter's two readings are judged by the reading rules and refuse it with their codes.
  const levels: Level[] = type === "replaceMeter" ? ["tx", "reading"] : ["tx"];
  if (receipt.outcome.kind !== "ok") expectLevel(receipt.outcome.value, levels, where);
  for (const result of receipt.readingResults ?? []) {
    if (result.kind === "rejected") expectLevel(result.value, ["reading"], `${where} reading`);
  }
}

interface BlockPlan {
  readonly step: number;
  readonly txs: readonly TxPlan[];
}

/** Runs the planned blocks on a fresh world; throws FuzzFailure on a broken promise. */
export async function runBlocks(plan: readonly BlockPlan[], world?: World): Promise<void> {
  const w = world ?? (await World.create());
  const chain = w.harness.chain;
  let seconds = 211;
  for (const [n, block] of plan.entries()) {
    seconds += block.step;
    const open = await w.openOrders();
    const txs = block.txs.map((p) => w.build(p, open));
    const before = chain.state.dump();
    const result = await chain.block(txs, { time: at(seconds) });
    w.endBlock();
    const where = `block ${n} at ${seconds} s`;
    if (!result.ok) {
      expectLevel(result.code, ["block"], where);
      const faulty = txs.some((tx) => tx.broken);
      if (!faulty) throw new FuzzFailure(`${where}: refused (${result.code}) with no broken tx`);
      if (chain.state.dump().join() !== before.join()) {
        throw new FuzzFailure(`${where}: a refused block changed the state`);
      }
      continue;
    }
    result.receipts.forEach((r, i) => {
      const type = block.txs[i]!.type;
      checkReceipt(r, type, `${where} tx ${i} (${type})`);
    });
    const broken = await brokenInvariants(chain.state);
    if (broken.length > 0) throw new FuzzFailure(`${where}: ${broken.join("; ")}`);
  }
}

export const vmTarget: FuzzTarget = {
  name: "vm",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    // The world's cast is the same every time, so one world shapes the arbitraries.
    const shape = await World.create();
    const blocks = fc.array(
      fc.record({
        step: fc.integer({ min: 1, max: 12 }),
        txs: fc.array(txPlans(shape), { maxLength: 6 }),
      }),
      { minLength: 1, maxLength: 10 },
    );
    return check(
      fc.asyncProperty(blocks, (plan) => runBlocks(plan)),
      runs,
      seed,
    );
  },
};
