// Shared by the Byzantine tests (byzantine-votes.test.ts, byzantine-blocks.test.ts): one
// Byzantine validator, v3, of four, against the honest three.
import { WattcapClient } from "../../rpc/client/index.js";
import type { Testnet } from "../harness/testnet.js";

export const HONEST = ["v0", "v1", "v2"];
export const lower = (s: string | null | undefined) => (s ?? "").toLowerCase();

export function client(net: Testnet, name: string): WattcapClient {
  return new WattcapClient({ url: `http://127.0.0.1:${net.node(name).rpcPort}`, timeoutMs: 5000 });
}

/** The proposers (lower-case 0x addresses) of the blocks in (from, to], as v0 stored them. */
export async function proposers(net: Testnet, from: number, to: number): Promise<string[]> {
  const rpc = client(net, "v0").rpc;
  const out: string[] = [];
  for (let h = from + 1; h <= to; h++) {
    const block = await rpc.chain_getBlock({ height: String(h) });
    out.push(lower(block?.header.proposer));
  }
  return out;
}
