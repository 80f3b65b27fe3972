// A small validator for the JSON Schema subset rpc/methods.ts uses: type (one name), enum,
// pattern, maxLength, minimum/maximum, properties/required/additionalProperties, items/maxItems,
// oneOf. Small and synchronous because it runs on every request, and it returns the first
// problem with its path, which goes back to the client in -32602's data.
import type { Json, JsonSchema } from "./json.js";

export interface SchemaProblem {
  readonly path: string;
  readonly message: string;
}

const patternCache = new Map<string, RegExp>();

function regex(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(pattern, "u");
    patternCache.set(pattern, re);
  }
  return re;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

/** The first way `value` breaks `schema`, or undefined when it conforms. */
export function validate(
  schema: JsonSchema,
  value: unknown,
  path = "params",
): SchemaProblem | undefined {
  const oneOf = schema.oneOf;
  if (Array.isArray(oneOf)) {
    let matches = 0;
    let first: SchemaProblem | undefined;
    for (const option of oneOf) {
      const problem = validate(option as JsonSchema, value, path);
      if (problem === undefined) matches++;
      else first ??= problem;
    }
    if (matches === 1) return undefined;
    return matches === 0 && first ? first : { path, message: "matches more than one form" };
  }
  const type = schema.type;
  const actual = typeOf(value);
  if (typeof type === "string" && !typeMatches(type, actual)) {
    return { path, message: `expected ${type}, got ${actual}` };
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value as Json)) {
    return { path, message: `expected one of ${schema.enum.join(", ")}` };
  }
  if (typeof value === "string") {
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      return { path, message: `longer than ${schema.maxLength} characters` };
    }
    if (typeof schema.pattern === "string" && !regex(schema.pattern).test(value)) {
      const what = typeof schema.description === "string" ? schema.description : schema.pattern;
      return { path, message: `expected ${what}` };
    }
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      return { path, message: `below the minimum ${schema.minimum}` };
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      return { path, message: `above the maximum ${schema.maximum}` };
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
      return { path, message: `more than ${schema.maxItems} items` };
    }
    const items = schema.items;
    if (items && typeof items === "object" && !Array.isArray(items)) {
      for (const [i, item] of value.entries()) {
        const problem = validate(items, item, `${path}[${i}]`);
        if (problem) return problem;
      }
    }
  }
  if (actual === "object") return validateObject(schema, value as Record<string, unknown>, path);
  return undefined;
}

function validateObject(
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: string,
): SchemaProblem | undefined {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  if (Array.isArray(schema.required)) {
    for (const name of schema.required) {
      if (typeof name === "string" && !Object.hasOwn(value, name)) {
        return { path: `${path}.${name}`, message: "is required" };
      }
    }
  }
  for (const [name, item] of Object.entries(value)) {
    const property = Object.hasOwn(properties, name) ? properties[name] : undefined;
    if (property === undefined) {
      if (schema.additionalProperties === false) {
        return { path: `${path}.${name}`, message: "is not a known parameter" };
      }
      continue;
    }
    const problem = validate(property, item, `${path}.${name}`);
    if (problem) return problem;
  }
  return undefined;
}
