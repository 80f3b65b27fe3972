// The rpc_discover document (OpenRPC 1.3), generated from rpc/methods.ts: the same schemas the
// server validates requests with, so the document cannot drift from what the server accepts.
import type { Json, JsonSchema } from "./json.js";
import { type MethodSpec, methods, SUBSCRIPTION_NOTIFICATION } from "./methods.js";

export const OPENRPC_VERSION = "1.3.2";

function contentDescriptors(spec: MethodSpec): Json[] {
  const properties = (spec.params.properties ?? {}) as Record<string, JsonSchema>;
  const required = (spec.params.required ?? []) as string[];
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    required: required.includes(name),
    schema,
  }));
}

export function openRpcDocument(version: string): { [key: string]: Json } {
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: "Wattcap JSON-RPC",
      version,
      description:
        "JSON-RPC 2.0 over HTTP POST / and WebSocket /ws. Named params only. bigints and times " +
        "(unix ms) are decimal strings, bytes 0x-hex, addresses EIP-55. Subscriptions (WebSocket) " +
        `notify with method "${SUBSCRIPTION_NOTIFICATION}".`,
    },
    methods: methods.map((spec) => ({
      name: spec.name,
      summary: spec.summary,
      paramStructure: "by-name",
      params: contentDescriptors(spec),
      result: { name: `${spec.name}Result`, schema: spec.result },
      ...(spec.websocketOnly ? { "x-transport": "websocket" } : {}),
      ...(spec.personal ? { "x-personal-data": true } : {}),
    })),
  };
}
