// The rpc_discover document against the OpenRPC 1.3 structure (the meta-schema package is not
// installed, so the required fields are checked here), the method table against the handlers,
// the schema validator and the JSON forms.
import t from "tap";
import { toChecksumAddress } from "../../lib/address.js";
import { handlers } from "../../rpc/handlers/index.js";
import {
  bigintJson,
  bytesJson,
  JsonFormError,
  type JsonSchema,
  parseAddressJson,
  parseBytes,
  parseU64,
  toJson,
} from "../../rpc/json.js";
import { methods } from "../../rpc/methods.js";
import { OPENRPC_VERSION, openRpcDocument } from "../../rpc/openrpc.js";
import { validate } from "../../rpc/schema.js";

type Doc = Record<string, unknown>;

/** The problems with a document under OpenRPC 1.3's required fields and their types. */
function openRpcProblems(doc: Doc): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  need(typeof doc.openrpc === "string" && /^1\.3\.\d+$/.test(doc.openrpc), "openrpc 1.3.x");
  const info = doc.info as Doc | undefined;
  need(typeof info === "object" && info !== null, "info object");
  need(typeof info?.title === "string", "info.title");
  need(typeof info?.version === "string", "info.version");
  need(Array.isArray(doc.methods), "methods array");
  const names = new Set<string>();
  for (const [i, m] of ((doc.methods as Doc[]) ?? []).entries()) {
    need(typeof m.name === "string" && m.name.length > 0, `methods[${i}].name`);
    need(!names.has(m.name as string), `methods[${i}].name unique`);
    names.add(m.name as string);
    need(
      m.paramStructure === undefined ||
        ["by-name", "by-position", "either"].includes(m.paramStructure as string),
      `methods[${i}].paramStructure`,
    );
    need(Array.isArray(m.params), `methods[${i}].params`);
    const paramNames = new Set<string>();
    for (const [j, p] of ((m.params as Doc[]) ?? []).entries()) {
      need(typeof p.name === "string", `methods[${i}].params[${j}].name`);
      need(!paramNames.has(p.name as string), `methods[${i}].params[${j}] unique`);
      paramNames.add(p.name as string);
      need(typeof p.schema === "object" && p.schema !== null, `methods[${i}].params[${j}].schema`);
      need(
        p.required === undefined || typeof p.required === "boolean",
        `methods[${i}].params[${j}].required`,
      );
    }
    const result = m.result as Doc | undefined;
    need(typeof result?.name === "string", `methods[${i}].result.name`);
    need(typeof result?.schema === "object", `methods[${i}].result.schema`);
  }
  return problems;
}

t.test("the OpenRPC document has every required field and every method", async (t) => {
  const doc = openRpcDocument("9.9.9");
  t.same(openRpcProblems(doc), []);
  t.equal(doc.openrpc, OPENRPC_VERSION);
  const listed = (doc.methods as Doc[]).map((m) => m.name);
  t.same(
    listed,
    methods.map((m) => m.name),
  );
  // The check itself catches a broken document.
  t.not(openRpcProblems({ ...doc, info: {} }).length, 0);
  t.not(openRpcProblems({ ...doc, methods: [{ name: "x", params: [{}] }] }).length, 0);
});

t.test("every method has a handler or is the WebSocket server's", async (t) => {
  for (const m of methods) {
    const served = m.websocketOnly === true || Object.hasOwn(handlers, m.name);
    t.ok(served, `${m.name} is served`);
    t.equal(m.params.type, "object", `${m.name} takes named params`);
    t.equal(m.params.additionalProperties, false, `${m.name} refuses unknown params`);
  }
});

t.test("the schema validator", async (t) => {
  const schema: JsonSchema = {
    type: "object",
    properties: {
      n: { type: "integer", minimum: 1, maximum: 3 },
      s: { type: "string", pattern: "^a+$", maxLength: 3 },
      e: { type: "string", enum: ["x", "y"] },
      l: { type: "array", items: { type: "boolean" }, maxItems: 2 },
      o: { oneOf: [{ type: "string" }, { type: "null" }] },
    },
    required: ["n"],
    additionalProperties: false,
  };
  t.equal(validate(schema, { n: 2, s: "aa", e: "x", l: [true], o: null }), undefined);
  t.match(validate(schema, {}), { path: "params.n" });
  t.match(validate(schema, { n: 1.5 }), { message: /integer/ });
  t.match(validate(schema, { n: 4 }), { message: /maximum/ });
  t.match(validate(schema, { n: 1, s: "ab" }), { path: "params.s" });
  t.match(validate(schema, { n: 1, s: "aaaa" }), { message: /longer/ });
  t.match(validate(schema, { n: 1, e: "z" }), { path: "params.e" });
  t.match(validate(schema, { n: 1, l: [true, 1] }), { path: "params.l[1]" });
  t.match(validate(schema, { n: 1, l: [true, true, true] }), { message: /more than/ });
  t.match(validate(schema, { n: 1, o: 5 }), { path: "params.o" });
  t.match(validate(schema, { n: 1, extra: 1 }), { path: "params.extra" });
  t.match(validate(schema, []), { message: /object/ });
  t.match(validate(schema, JSON.parse('{"n":1,"__proto__":{"n":2}}')), {
    path: "params.__proto__",
  });
});

t.test("the JSON forms", async (t) => {
  const address = new Uint8Array(20).fill(0xab);
  t.equal(bigintJson(12345n), "12345");
  t.equal(bigintJson(-5n), "-5");
  t.equal(bytesJson(Uint8Array.of(0, 255)), "0x00ff");
  t.same(
    toJson({
      a: 1n,
      b: address,
      c: Uint8Array.of(1),
      d: undefined,
      e: [2n],
      f: { kind: "ok", value: {} },
    }),
    {
      a: "1",
      b: toChecksumAddress(address),
      c: "0x01",
      d: null,
      e: ["2"],
      f: { kind: "ok", value: {} },
    },
  );
  t.equal(parseU64("18446744073709551615"), (1n << 64n) - 1n);
  t.throws(() => parseU64("18446744073709551616"), JsonFormError);
  t.throws(() => parseU64("01"), JsonFormError);
  t.same(parseBytes("0x00FF"), Uint8Array.of(0, 255));
  t.throws(() => parseBytes("0x0"), JsonFormError);
  t.throws(() => parseBytes("0x00", 2), JsonFormError);
  t.same(parseAddressJson(toChecksumAddress(address)), address);
  t.throws(() => parseAddressJson(`0x${"Ab".repeat(20)}`), JsonFormError);
});
