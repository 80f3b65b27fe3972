// Every fuzz target, in the order the runner tries them.
import { codecTarget } from "./codec.js";
import type { FuzzTarget } from "./fuzz.js";
import { gossipTarget } from "./gossip.js";
import { meterDataTarget } from "./meter-data.js";
import { rpcTarget } from "./rpc.js";
import { txTarget } from "./tx.js";
import { vmTarget } from "./vm.js";

export const TARGETS: readonly FuzzTarget[] = [
  codecTarget,
  txTarget,
  vmTarget,
  rpcTarget,
  gossipTarget,
  meterDataTarget,
];
