// The explorer's pure parts and its build and serving, without a browser: routes, CSV, number
// formatting, search classification, the rule that no source parses HTML, the bundle, and the
// static routes' headers.
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import Fastify from "fastify";
import t from "tap";
import { buildExplorer, projectRoot } from "../../explorer/build.js";
import { explorerRoutes } from "../../explorer/serve.js";
import { csvChunks, csvField, csvRow } from "../../explorer/src/csv.js";
import {
  classify,
  grouped,
  money,
  pricePerKwh,
  scaled,
  short,
  time,
} from "../../explorer/src/format.js";
import { parseRoute, type Route, routeHash } from "../../explorer/src/router.js";
import { parseCsv } from "./csv-reader.js";

const root = projectRoot();

t.test("routes round-trip through their hash", async (t) => {
  const routes: Route[] = [
    { page: "home" },
    { page: "blocks", before: undefined },
    { page: "blocks", before: "40" },
    { page: "block", id: "12" },
    { page: "tx", hash: `0x${"ab".repeat(32)}` },
    { page: "address", address: "0x2BD7358567869c72D2870c70D9C4057000252887" },
    { page: "meter", meterIdHash: `0x${"01".repeat(32)}` },
    { page: "periods", utility: undefined, period: undefined },
    { page: "periods", utility: "u0", period: undefined },
    { page: "periods", utility: "u0", period: "3" },
    { page: "market", utility: "u1" },
    { page: "validators" },
    { page: "oracles" },
    { page: "utilities" },
    { page: "utility", id: "u0" },
    { page: "search", query: "meter 7/a b" },
    { page: "sign-in", back: undefined },
    { page: "sign-in", back: "#/address/0x2BD7358567869c72D2870c70D9C4057000252887" },
  ];
  for (const route of routes) t.same(parseRoute(routeHash(route)), route, routeHash(route));
  t.same(parseRoute("#/nope/1"), { page: "not-found", path: "nope/1" });
  t.same(parseRoute("#/block/"), { page: "not-found", path: "block/" });
  t.same(
    parseRoute("#/search/%E0%A4%A"),
    { page: "search", query: "%E0%A4%A" },
    "bad escapes kept",
  );
  fc.assert(
    fc.property(fc.string(), (query) => {
      const parsed = parseRoute(routeHash({ page: "search", query }));
      return parsed.page === "search" && parsed.query === query;
    }),
  );
});

t.test("CSV fields are RFC 4180 and never spreadsheet formulas", async (t) => {
  t.equal(csvField("plain"), "plain");
  t.equal(csvField('say "hi", twice'), '"say ""hi"", twice"');
  t.equal(csvField("a\r\nb"), '"a\r\nb"');
  t.equal(csvField(null), "");
  t.equal(csvField(12), "12");
  t.equal(csvField(true), "true");
  t.equal(csvField('=HYPERLINK("http://x")'), '"\'=HYPERLINK(""http://x"")"');
  t.equal(csvField("+1+2"), "'+1+2");
  t.equal(csvField("@SUM(A1)"), "'@SUM(A1)");
  t.equal(csvField("-2+3"), "'-2+3");
  t.equal(csvField("\tx"), "'\tx");
  t.equal(csvField("-1500"), "-1500", "a negative number stays a number");
  t.equal(csvField("-1.5"), "-1.5");
  t.equal(csvRow(["a", "b,c"]), 'a,"b,c"\r\n');
  fc.assert(
    fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 6 }), (fields) => {
      const [row] = parseCsv(csvRow(fields));
      const expected = fields.map((f) =>
        /^[=+\-@\t\r]/.test(f) && !/^-?\d+(\.\d+)?$/.test(f) ? `'${f}` : f,
      );
      return JSON.stringify(row) === JSON.stringify(expected);
    }),
  );
});

t.test("CSV export walks every page of a cursor list", async (t) => {
  const rows = Array.from({ length: 250 }, (_, i) => ({
    n: String(i),
    note: i % 7 === 0 ? "=x" : `r${i}`,
  }));
  const asked: (string | null)[] = [];
  const fetchPage = async (cursor: string | null) => {
    asked.push(cursor);
    const from = cursor === null ? 0 : Number(cursor);
    const items = rows.slice(from, from + 100);
    return { items, nextCursor: from + 100 < rows.length ? String(from + 100) : null };
  };
  const chunks: string[] = [];
  for await (const chunk of csvChunks(
    [
      { title: "n", value: (r: (typeof rows)[number]) => r.n },
      { title: "note", value: (r) => r.note },
    ],
    fetchPage,
  ))
    chunks.push(chunk);
  t.same(asked, [null, "100", "200"], "one request per page, in cursor order");
  t.equal(chunks.length, 4, "the header, then one chunk per page");
  const parsed = parseCsv(chunks.join(""));
  t.same(parsed[0], ["n", "note"]);
  t.equal(parsed.length, 251, "no row cap");
  t.same(parsed[250], ["249", "r249"]);
  t.same(parsed[1], ["0", "'=x"]);

  const looping = async () => ({ items: [{ n: "1" }], nextCursor: "same" });
  await t.rejects(async () => {
    for await (const _ of csvChunks([{ title: "n", value: (r: { n: string }) => r.n }], looping)) {
      // drain
    }
  }, /repeated a cursor/);
});

t.test("numbers are formatted exactly, from strings", async (t) => {
  t.equal(grouped("1234567"), "1,234,567");
  t.equal(grouped("-1000"), "-1,000");
  t.equal(grouped("999"), "999");
  t.equal(scaled("1500", 3), "1.5");
  t.equal(scaled("-5", 6), "-0.000005");
  t.equal(scaled("0", 6), "0");
  t.equal(money("123456789012345678901"), "123,456,789,012,345.678901", "beyond 2^53, exact");
  t.equal(pricePerKwh("150"), "0.15/kWh");
  t.equal(time("1700000000000"), "2023-11-14T22:13:20Z");
  t.equal(time("not a time"), "not a time");
  t.equal(short(`0x${"ab".repeat(32)}`), `0xabababab…abababab`);
});

t.test("search queries are classified by their form", async (t) => {
  t.same(classify(" 42 "), { kind: "height", height: "42" });
  t.same(classify(`0x${"AB".repeat(32)}`), { kind: "hash", hash: `0x${"ab".repeat(32)}` });
  t.same(classify("0x2BD7358567869c72D2870c70D9C4057000252887"), {
    kind: "address",
    address: "0x2BD7358567869c72D2870c70D9C4057000252887",
  });
  t.same(classify("MTR-0042"), { kind: "meter-id", meterId: "MTR-0042" });
  t.same(classify("   "), { kind: "empty" });
});

t.test("no explorer source parses HTML", async (t) => {
  const dir = join(root, "explorer", "src");
  const files: string[] = [];
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
      else if (entry.name.endsWith(".ts")) files.push(join(d, entry.name));
    }
  };
  await walk(dir);
  t.ok(files.length >= 10, "the sources were found");
  const banned =
    /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|srcdoc)\b/;
  for (const file of files) {
    const text = await readFile(file, "utf8");
    t.notOk(banned.test(text), `${file.slice(root.length + 1)} creates DOM only through dom.ts`);
  }
});

t.test("the browser sources type-check against the DOM library", async (t) => {
  // TypeScript 7's compiler is a native binary; running it directly keeps tap's process hooks
  // (which would load its JS launcher as CommonJS) out of the way.
  const helper = pathToFileURL(join(root, "node_modules", "typescript", "lib", "getExePath.js"));
  const { default: getExePath } = (await import(helper.href)) as { default: () => string };
  const result = spawnSync(getExePath(), ["-p", join(root, "explorer", "tsconfig.json")], {
    encoding: "utf8",
  });
  t.equal(result.status, 0, result.stdout + result.stderr);
});

t.test("the build writes one hashed bundle and stylesheet named by index.html", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "wattcap-explorer-build-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const built = await buildExplorer(root, dir);
  const js = built.files.filter((f) => /^main-[A-Z0-9]{8}\.js$/.test(f));
  const css = built.files.filter((f) => /^style-[0-9a-f]{8}\.css$/.test(f));
  t.equal(js.length, 1);
  t.equal(css.length, 1);
  const html = await readFile(join(dir, "index.html"), "utf8");
  t.match(html, `src="${js[0]}"`);
  t.match(html, `href="${css[0]}"`);
  t.match(html, "Content-Security-Policy");
  t.ok(built.bundleBytes < 400_000, `the bundle is small (${built.bundleBytes} bytes)`);
  const bundle = await readFile(join(dir, js[0]!), "utf8");
  t.notOk(
    /\bnode:(crypto|fs|path)\b/.test(bundle.replace(/"node:crypto"\)/g, "")),
    "no Node built-ins imported",
  );

  const app = Fastify();
  t.teardown(() => app.close());
  t.equal(explorerRoutes(app, { dir, rpcUrl: "http://rpc.example:8545/" }), true);
  const index = await app.inject({ url: "/explorer/" });
  t.equal(index.statusCode, 200);
  t.equal(index.headers["cache-control"], "no-cache");
  t.match(String(index.headers["content-security-policy"]), "frame-ancestors 'none'");
  t.equal(index.headers["x-content-type-options"], "nosniff");
  const asset = await app.inject({
    url: `/explorer/${js[0]}`,
    headers: { "accept-encoding": "gzip" },
  });
  t.equal(asset.statusCode, 200);
  t.equal(asset.headers["cache-control"], "public, max-age=31536000, immutable");
  t.equal(asset.headers["content-encoding"], "gzip");
  t.ok(asset.rawPayload.length < built.bundleBytes / 2, "served compressed");
  const config = await app.inject({ url: "/explorer/config.json" });
  t.same(config.json(), { rpc: "http://rpc.example:8545/" });
  t.equal((await app.inject({ url: "/explorer" })).statusCode, 301);
  t.equal((await app.inject({ url: "/explorer/..%2Fpackage.json" })).statusCode, 404);
  t.equal((await app.inject({ url: "/explorer/nope.js" })).statusCode, 404);

  const unbuilt = Fastify();
  t.teardown(() => unbuilt.close());
  t.equal(explorerRoutes(unbuilt, { dir: join(dir, "missing") }), false);
  const missing = await unbuilt.inject({ url: "/explorer/" });
  t.equal(missing.statusCode, 404);
  t.match(missing.body, "not built");
});

t.test("wattcap explorer checks its arguments", async (t) => {
  const { run } = await import("../../cli/explorer.js");
  const { CliError } = await import("../../cli/usage.js");
  await t.rejects(run(["--rpc", "ftp://x"]), CliError, "the RPC must be an http(s) URL");
  await t.rejects(run([]), CliError, "--rpc is required");
  await t.rejects(run(["--rpc", "http://127.0.0.1:8545/", "--port", "70000"]), CliError);
  await t.rejects(run(["--bogus"]), CliError, "unknown options are refused");
  const { startExplorerServer } = await import("../../explorer/serve.js");
  await t.rejects(
    startExplorerServer({
      rpcUrl: "http://127.0.0.1:8545/",
      dir: join(tmpdir(), "no-such-explorer"),
    }),
    /not built/,
    "serving alone needs a built explorer",
  );
});
