// The chain's shared wire types in one import, for layers that use most of them.
export * from "./block.js";
export * from "./commit.js";
export * from "./evidence.js";
export * from "./merkle.js";
export * from "./tx.js";
export * from "./validator.js";
export * from "./vote.js";
