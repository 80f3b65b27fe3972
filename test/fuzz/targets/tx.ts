// Fuzz target: the mempool's checks of a submitted transaction (lib/tx.ts and vm/check.ts).
// Promise: for any bytes, checkTxStateless answers ok or a block-level reject code, never throws;
// for a transaction it admits, checkTxStateful against a live state answers ok or a reject code,
// never throws. Inputs: random bytes, mutations of signed transactions, and correctly signed
// transactions of every type from anyone with plausible, edge and schema-breaking payloads
// (which get past the signature check and reach the payload and role checks).
import fc from "fast-check";
import { checkTxStateful, checkTxStateless, type TxCheck } from "../../../vm/check.js";
import { isRejectCode, rejectLevel } from "../../../vm/codes.js";
import {
  byteInputs,
  check,
  FuzzFailure,
  type FuzzReport,
  type FuzzTarget,
  mutated,
} from "./fuzz.js";
import { seedTxs } from "./seeds.js";
import { txPlans, World } from "./world.js";

function expectCode(result: TxCheck<object>, level: "block" | undefined, what: string): void {
  if (result.ok) return;
  if (!isRejectCode(result.code)) throw new FuzzFailure(`${what}: unknown code ${result.code}`);
  if (level && rejectLevel(result.code) !== level) {
    throw new FuzzFailure(`${what}: ${result.code} is not a ${level}-level code`);
  }
}

export const txTarget: FuzzTarget = {
  name: "tx",
  async run(runs: number, seed: number): Promise<FuzzReport> {
    const world = await World.create();
    const chain = world.harness.chain;
    const signed = txPlans(world, 10).map((plan) => {
      const tx = world.build(plan, []);
      world.endBlock();
      return tx.encoded;
    });
    const input = fc.oneof(
      { weight: 2, arbitrary: byteInputs(seedTxs()) },
      { weight: 2, arbitrary: signed },
      { weight: 1, arbitrary: signed.chain((s) => mutated([s])) },
    );
    return check(
      fc.property(input, (data) => {
        const stateless = checkTxStateless(data, chain.chainId);
        expectCode(stateless, "block", "checkTxStateless");
        if (!stateless.ok) return;
        const stateful = checkTxStateful(chain.state, stateless.tx, chain.blockContext());
        expectCode(stateful, undefined, "checkTxStateful");
      }),
      runs,
      seed,
    );
  },
};
