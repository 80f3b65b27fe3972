// Oracle keys a utility trusts to relay its households' readings. An oracle belongs to one
// utility for ever; a revoked oracle can be re-registered only by the same utility.
import { reject } from "../codes.js";
import { authoriseOperator, signerUtility } from "../roles.js";
import { tables } from "../tables.js";
import { defineHandler } from "../tx/registry.js";

export const registerOracle = defineHandler("registerOracle", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const address = tx.payload.oracle;
    const existing = ctx.get(tables.oracle, address);
    if (existing && (existing.active || existing.utility !== utility.id)) reject("ORACLE_EXISTS");
    ctx.put(tables.oracle, address, {
      address,
      utility: utility.id,
      active: true,
      registeredHeight: ctx.block.height,
    });
    ctx.emit({ kind: "oracleRegistered", value: { oracle: address, utility: utility.id } });
  },
});

export const revokeOracle = defineHandler("revokeOracle", {
  authorise: authoriseOperator,
  execute(ctx, tx) {
    const utility = signerUtility(ctx, tx.signer);
    const address = tx.payload.oracle;
    const oracle = ctx.need(tables.oracle, address, "UNKNOWN_ORACLE");
    if (oracle.utility !== utility.id) reject("NOT_AUTHORISED", "another utility's oracle");
    if (!oracle.active) reject("ORACLE_REVOKED");
    ctx.put(tables.oracle, address, { ...oracle, active: false });
    ctx.emit({ kind: "oracleRevoked", value: { oracle: address, utility: utility.id } });
  },
});
