// What a reader does in Chromium against a real node: search finds each kind of object; a CSV
// export equals the RPC's list; Verify succeeds for a real value and fails when the node's
// proof is tampered with on the way (intercepted with page.route).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import t from "tap";
import { grouped } from "../../explorer/src/format.js";
import { launch, openPage, screenshotDir, visit } from "./browser-fixtures.js";
import { parseCsv } from "./csv-reader.js";
import { explorerChain, METER_ID } from "./explorer-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: RPC results are read loosely; the RPC tests check their shapes
type Loose = any;

async function search(page: Page, query: string): Promise<string> {
  await page.fill("#q", query);
  await page.press("#q", "Enter");
  await page.waitForFunction(
    () =>
      !(globalThis as unknown as { location: { hash: string } }).location.hash.startsWith(
        "#/search/",
      ),
    undefined,
    { timeout: 10_000 },
  );
  return page.evaluate(
    () => (globalThis as unknown as { location: { hash: string } }).location.hash,
  );
}

async function download(page: Page, button: string): Promise<string> {
  const [file] = await Promise.all([
    page.waitForEvent("download"),
    page.click(`button:has-text("${button}")`),
  ]);
  const path = await file.path();
  return readFile(path, "utf8");
}

t.test("search, CSV export and Verify", async (t) => {
  const chain = await explorerChain(t);
  const rpc = async (method: string, params: unknown = {}): Promise<Loose> => {
    const response = await chain.node.call(method, params);
    if (response.error) throw new Error(`${method}: ${response.error.message}`);
    return response.result;
  };
  const browser = await launch(t);
  const { page, errors } = await openPage(browser);
  const base = chain.explorerUrl;
  await visit(page, base, "#/");

  const block = await rpc("chain_getBlock", { height: "3" });
  t.equal(await search(page, "3"), "#/block/3", "a height finds its block");
  t.equal(await search(page, block.hash), "#/block/3", "a block hash finds its block");
  t.equal(
    await search(page, chain.orderTx),
    `#/tx/${chain.orderTx}`,
    "a tx hash finds the transaction",
  );
  t.equal(
    await search(page, chain.under.hex),
    `#/address/${chain.under.hex}`,
    "an address finds the account",
  );
  t.equal(
    await search(page, chain.meterUnder),
    `#/meter/${chain.meterUnder}`,
    "a meter id hash finds the meter",
  );
  t.equal(await search(page, METER_ID), `#/meter/${chain.meterById}`, "a meter id finds the meter");
  await page.fill("#q", `0x${"ee".repeat(32)}`);
  await page.press("#q", "Enter");
  await page.waitForSelector("main h1:has-text('Not found')");
  t.pass("an unknown hash says not found");

  // CSV: the trades list, and blocks (paged by height through the same cursor walk).
  await visit(page, base, "#/market/u0");
  const tradesCsv = parseCsv(await download(page, "Export trades"));
  const trades = await rpc("market_trades", { utility: "u0", limit: 100 });
  t.same(tradesCsv[0], ["height", "time", "order", "household", "side", "qty", "price"]);
  t.same(
    tradesCsv.slice(1),
    trades.items.map((x: Loose) => [
      x.height,
      x.time,
      x.order,
      x.household,
      x.side,
      x.qty,
      x.price,
    ]),
    "the trades CSV is the RPC's list",
  );
  await visit(page, base, "#/blocks");
  const blocksCsv = parseCsv(await download(page, "Export blocks"));
  const status = await rpc("chain_status");
  t.equal(blocksCsv.length - 1, Number(status.height), "every block, one row each");
  for (const row of blocksCsv.slice(1)) {
    const b = await rpc("chain_getBlock", { height: row[0] });
    t.same(
      row.slice(0, 4),
      [b.height, b.hash, b.header.time, b.header.proposer],
      `block ${row[0]}`,
    );
  }
  await visit(page, base, `#/meter/${chain.meterUnder}`);
  const readingsCsv = parseCsv(await download(page, "Export readings"));
  const readings = await rpc("readings_byMeter", { meterIdHash: chain.meterUnder, limit: 100 });
  t.same(
    readingsCsv.slice(1).map((r) => [r[0], r[1], r[3], r[4], r[5]]),
    readings.items.map((r: Loose) => [r.height, r.tx, r.time, r.registers.join(" "), r.result]),
    "the readings CSV is the RPC's list",
  );

  // Verify a real value.
  const account = await rpc("account_get", { address: chain.under.hex });
  await visit(page, base, `#/address/${chain.under.hex}`);
  await page.click("button.verify");
  await page.waitForSelector(".verify-out .verify-result, .verify-out .verdict.bad");
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the table layout (tabs, lines) the assertions read
  const verified = await page.locator(".verify-out").innerText();
  t.match(verified, `Verified: balance ${Number(account.balance) / 1e6}`, "the balance verifies");
  t.match(verified, `Credits of vintage ${account.credits[0].vintage}`);
  t.match(verified, `Verified: ${grouped(account.credits[0].amount)} Wh`, "the credits verify");
  t.match(verified, "1 of 1 signatures", "the commit's signatures are counted");
  const head = await rpc("chain_getBlock", {});
  t.match(
    verified,
    `state root ${head.header.stateRoot}`,
    "the proof is checked against the head's state root",
  );
  t.equal(await page.locator(".verify-out .step.bad").count(), 0, "no step failed");
  t.ok((await page.locator(".verify-out .step.ok").count()) >= 10, "each step is shown as passed");
  await page
    .locator(".verify-panel")
    .screenshot({ path: join(await screenshotDir(), "verify.png") });

  // Tamper: the node's proof answer has its value changed on the way to the browser.
  await page.route(chain.node.url, async (route) => {
    const body = route.request().postData() ?? "";
    if (!body.includes('"state_getProof"')) return route.continue();
    const response = await route.fetch();
    const json = await response.json();
    const value: string = json.result.value;
    const last = value.slice(-2) === "00" ? "01" : "00";
    json.result.value = value.slice(0, -2) + last;
    return route.fulfill({ response, json });
  });
  await page.click("button.verify");
  await page.waitForSelector(".verify-out .step.bad");
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the table layout (tabs, lines) the assertions read
  const refused = await page.locator(".verify-out").innerText();
  t.match(refused, "Not verified (BAD_PROOF)", "the tampered proof fails");
  t.match(refused, "the proof does not match", "and says which step");
  await page.unroute(chain.node.url);

  // Live: a new block reaches the open home page over the WebSocket, with no HTTP request.
  await visit(page, base, "#/");
  let posts = 0;
  page.on("request", (request) => {
    if (request.method() === "POST") posts++;
  });
  await page.waitForSelector("#live-status:has-text('live')");
  const next = await chain.node.produce();
  await page.waitForSelector(`#head-height:has-text('${next.height}')`);
  t.pass(`the head height became ${next.height} without reloading`);
  t.equal(posts, 0, "no RPC request was made: no polling");
  t.match(
    await page.locator(".feed").textContent(),
    `block ${next.height}`,
    "the live feed shows it",
  );

  t.same(errors, [], "no console errors");
});
