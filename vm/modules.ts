// The chain's rules as a list of modules: the one place that says which transaction types this
// chain executes and which end-of-block jobs run, in what order. Readings, finalisation,
// markets and compliance join here as modules of their own; the block loop does not change.
import { approveGovernance, proposalExpiryJob, proposeGovernance } from "./governance/proposals.js";
import { validatorSetJob } from "./governance/validator-set.js";
import { recordCharge, recordPayment, reverseBillRecord } from "./money/bills.js";
import { postCorrection } from "./readings/correction.js";
import { replaceMeter } from "./readings/replace-meter.js";
import { submitReadings } from "./readings/submit.js";
import { settlementJob } from "./settlement/scheduler.js";
import { tradingModule } from "./trading/module.js";
import { HandlerRegistry, type VmModule } from "./tx/registry.js";
import { closeHousehold } from "./utility/closure.js";
import {
  cancelKeyRotation,
  completeKeyRotation,
  delegateAppKey,
  requestKeyRotation,
} from "./utility/household-keys.js";
import { registerHousehold, setExplicitCap, updateBaselines } from "./utility/households.js";
import { registerOracle, revokeOracle } from "./utility/oracles.js";
import { setPolicy } from "./utility/policy.js";

export const governanceModule: VmModule = {
  name: "governance",
  handlers: [proposeGovernance, approveGovernance],
  endBlock: [proposalExpiryJob, validatorSetJob],
};

export const utilityModule: VmModule = {
  name: "utility",
  handlers: [
    registerHousehold,
    updateBaselines,
    setExplicitCap,
    registerOracle,
    revokeOracle,
    setPolicy,
    requestKeyRotation,
    completeKeyRotation,
    cancelKeyRotation,
    delegateAppKey,
    closeHousehold,
  ],
};

export const moneyModule: VmModule = {
  name: "money",
  handlers: [recordPayment, recordCharge, reverseBillRecord],
};

export const readingsModule: VmModule = {
  name: "readings",
  handlers: [submitReadings, replaceMeter, postCorrection],
};

/** Period snapshots, finalisation and the stages after it, through one bounded scheduler. */
export const settlementModule: VmModule = {
  name: "settlement",
  handlers: [],
  endBlock: [settlementJob()],
};

export const VM_MODULES: readonly VmModule[] = [
  governanceModule,
  utilityModule,
  moneyModule,
  readingsModule,
  settlementModule,
  // After settlement: orders the settlement stages place in a block join that block's auction.
  tradingModule,
];

/** The registry of the chain's current rules. */
export const defaultRegistry = new HandlerRegistry(VM_MODULES);
