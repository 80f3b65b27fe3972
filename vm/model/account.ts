// An account is any address that signs transactions; a household's money lives in the account
// of its household address, which never changes even when the household's key is rotated.
import { type Infer, i64, struct, u64 } from "../../lib/codec.js";

export const AccountSchema = struct("Account", {
  /** The nonce the account's next transaction must carry. */
  nonce: u64,
  /** Micro-units; below zero when penalties or charges put a household in arrears. */
  balance: i64,
});
export type Account = Infer<typeof AccountSchema>;

export const NEW_ACCOUNT: Account = { nonce: 0n, balance: 0n };
