// The SDK runs in the browser: bundling rpc/client/index.ts for the browser must succeed,
// which esbuild refuses if anything on the path imports a Node built-in.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import t from "tap";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

t.test("rpc/client bundles for the browser with no Node built-ins", async (t) => {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ["rpc/client/index.ts"],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  t.same(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  t.ok(inputs.includes("rpc/client/light-client.ts"));
  t.ok(inputs.includes("state/smt/proof.ts"));
  const nodeOnly = inputs.filter(
    (p) => p.startsWith("node:") || /lib\/(verify-pool|log)\.ts$/.test(p),
  );
  t.same(nodeOnly, [], "no Node-only modules in the bundle");
  const code = new TextDecoder().decode(result.outputFiles[0]!.contents);
  t.notMatch(code, /from\s+["']node:/, "no node: imports left in the output");
});
