// Every explorer page in Chromium against a real node: it loads without console errors and
// shows the values the RPC returns for the same objects; chain text with markup shows as text
// and runs nothing; the skip link works from the keyboard; screenshots of the main pages are saved
// (browser-fixtures.ts screenshotDir: docs/explorer/ when regenerating docs/explorer.md's images).
import { join } from "node:path";
import t from "tap";
import { grouped } from "../../explorer/src/format.js";
import { launch, openPage, screenshotDir, visit } from "./browser-fixtures.js";
import { explorerChain, MARKUP_REFERENCE, SCRIPT_NAME } from "./explorer-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: RPC results are read loosely; the RPC tests check their shapes
type Loose = any;

t.test("each page shows the RPC's values, with no console errors", async (t) => {
  const chain = await explorerChain(t);
  const rpc = async (method: string, params: unknown = {}): Promise<Loose> => {
    const response = await chain.node.call(method, params);
    if (response.error) throw new Error(`${method}: ${response.error.message}`);
    return response.result;
  };
  const browser = await launch(t);
  const { page, errors, dialogs } = await openPage(browser);
  const shots = await screenshotDir();
  const base = chain.explorerUrl;
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the table layout (tabs, lines) the assertions read
  const main = () => page.locator("main").innerText();
  const shoot = (name: string) =>
    page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  const status = await rpc("chain_status");
  await visit(page, base, "#/");
  let text = await main();
  t.match(text, `Height\n${status.height}`, "home: the head height");
  t.match(text, status.headHash.slice(0, 10), "home: the head hash");
  t.match(text, "1 of 1 signed the last commit", "home: validators online");
  const period = await rpc("period_get", { utility: "u0" });
  t.match(text, new RegExp(`u0\\s+${period.period}\\s+${period.phase}`), "home: period and phase");
  const previous = await rpc("period_get", {
    utility: "u0",
    period: String(BigInt(period.period) - 1n),
  });
  t.match(
    text,
    `${grouped(previous.totals.creditsMinted)} for period ${previous.period}`,
    "home: minted",
  );
  t.match(text, "0.15/kWh", "home: last clearing price (150 µ/Wh)");
  await shoot("home");

  await visit(page, base, "#/blocks");
  text = await main();
  for (let h = Number(status.height); h >= 1; h--)
    t.match(text, new RegExp(`^${h}\\t`, "m"), `blocks: ${h}`);
  await shoot("blocks");

  const block = await rpc("chain_getBlock", { height: "7" });
  await visit(page, base, "#/block/7");
  text = await main();
  t.match(text, block.hash, "block: hash");
  t.match(text, block.header.stateRoot, "block: state root");
  for (const sig of block.commit.signatures)
    t.match(text, sig.signature, "block: every commit signature");
  for (const tx of block.transactions) t.match(text, tx.typeName, `block: ${tx.typeName}`);
  t.match(
    text,
    `u0 ${block.header.proposer.slice(0, 8)}`,
    "block: proposer by utility and address",
  );
  await shoot("block");

  const order = await rpc("tx_get", { hash: chain.orderTx });
  await visit(page, base, `#/tx/${chain.orderTx}`);
  text = await main();
  t.match(text, "finalized", "tx: status");
  t.match(text, "placeOrder", "tx: type");
  t.match(text, '"side": "sell"', "tx: decoded payload");
  t.match(text, '"qty": "300"', "tx: decoded payload");
  for (const e of order.receipt.events) t.match(text, e.kind, `tx: event ${e.kind}`);
  await shoot("transaction");

  const account = await rpc("account_get", { address: chain.under.hex });
  const household = await rpc("household_get", { address: chain.under.hex });
  const statement = await rpc("household_statement", { address: chain.under.hex, period: "1" });
  await visit(page, base, `#/address/${chain.under.hex}`);
  text = await main();
  t.match(text, "Household", "address: a household");
  t.match(text, `Cap ${grouped(household.currentPeriod.cap)} Wh`, "address: cap chart");
  for (const c of account.credits) {
    t.match(
      text,
      new RegExp(`^${c.vintage}\\t${grouped(c.amount)}\\t${grouped(c.locked)}$`, "m"),
      "address: credits by vintage",
    );
  }
  t.match(
    text,
    new RegExp(`^1\\tsettled\\t${grouped(statement.cap)}\\t${grouped(statement.consumption)}`, "m"),
    "address: statement",
  );
  t.equal(await page.locator("svg.chart").count(), 1, "address: the cap chart is drawn");
  await shoot("household");

  await visit(page, base, "#/periods/u0/1");
  text = await main();
  const p1 = await rpc("period_get", { utility: "u0", period: "1" });
  t.match(text, `Under cap\n${p1.totals.underCap}`, "periods: under cap");
  t.match(text, `Over cap\n${p1.totals.overCap}`, "periods: over cap");
  t.match(text, `Credits minted (Wh)\n${grouped(p1.totals.creditsMinted)}`, "periods: minted");
  t.match(text, "trading window", "periods: timeline");
  const settlement = await rpc("export_settlement", { utility: "u0", period: "1" });
  for (const st of settlement.statements.items) {
    t.match(
      text,
      new RegExp(
        `\\tsettled\\t${grouped(st.cap)}\\t${grouped(st.consumption)}\\t${grouped(st.minted)}\\t${grouped(st.obligation)}`,
      ),
      "periods: each household's statement",
    );
  }
  await shoot("period");

  const auctions = await rpc("market_auctions", { utility: "u0" });
  const trades = await rpc("market_trades", { utility: "u0" });
  await visit(page, base, "#/market/u0");
  text = await main();
  const a = auctions.items[0];
  t.match(text, `${grouped(a.volume)} Wh at 0.15/kWh`, "market: the auction's clearing point");
  t.equal(
    await page.locator("circle.clearing").count(),
    1,
    "market: the curves chart marks the clearing point",
  );
  t.equal(await page.locator("polyline.demand").count(), 1, "market: demand curve");
  t.equal(await page.locator("polyline.supply").count(), 1, "market: supply curve");
  for (const tr of trades.items)
    t.match(text, new RegExp(`\\t${tr.side}\\t${grouped(tr.qty)}\\t`), "market: trades");
  await shoot("market");

  const validators = await rpc("chain_getValidators");
  await visit(page, base, "#/validators");
  text = await main();
  for (const v of validators.validators) {
    t.match(
      text,
      new RegExp(`online\\t${v.signed}\\t${v.missed}\\t${v.lastSigned}`),
      "validators: liveness",
    );
  }
  await shoot("validators");

  const oracles = await rpc("oracle_list");
  await visit(page, base, "#/oracles");
  text = await main();
  for (const o of oracles.items)
    t.match(text, new RegExp(`\\t${o.batches}\\t${o.readingsRelayed}\\t`), "oracles: counts");

  await visit(page, base, "#/utility/u0");
  text = await main();
  const utility = await rpc("utility_get", { utility: "u0" });
  t.match(
    text,
    `Households\n${utility.activeHouseholds} active of ${utility.householdCount}`,
    "utility: households",
  );
  t.match(text, "registerHousehold", "utility: the operator's household changes are listed");
  t.match(text, `Minted (Wh)`, "utility: issuance per household");
  t.match(text, SCRIPT_NAME, "the <script> name shows as text");
  t.equal(await page.locator("main script").count(), 0, "no script element was created");
  await shoot("utility");

  await visit(page, base, `#/tx/${chain.paymentTx}`);
  text = await main();
  t.match(text, MARKUP_REFERENCE, "the markup reference shows as text");
  t.equal(await page.locator("main b").count(), 0, "no <b> element was created");

  await visit(page, base, `#/meter/${chain.meterUnder}`);
  text = await main();
  const readings = await rpc("readings_byMeter", { meterIdHash: chain.meterUnder });
  for (const r of readings.items)
    t.match(text, new RegExp(`\\t${grouped(r.registers[0])}\\t${r.result}`), "meter: readings");

  t.same(dialogs, [], "no alert or other dialog opened");
  t.same(errors, [], "no console errors on any page");
});

t.test("a phone-sized screen and the keyboard", async (t) => {
  const chain = await explorerChain(t);
  const browser = await launch(t);
  const { page, errors } = await openPage(browser, { width: 390, height: 844 });
  const shots = await screenshotDir();
  await visit(page, chain.explorerUrl, "#/market/u0");
  const width = await page.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
        .documentElement.scrollWidth,
  );
  t.ok(width <= 390, `no sideways scrolling (${width}px)`);
  await page.screenshot({ path: join(shots, "market-phone.png"), fullPage: true });

  await page.keyboard.press("Tab");
  const skip = page.locator(".skip");
  t.equal(
    await skip.evaluate(
      (el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement,
    ),
    true,
    "Tab reaches the skip link first",
  );
  await page.keyboard.press("Enter");
  t.equal(
    await page
      .locator("main")
      .evaluate(
        (el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement,
      ),
    true,
    "the skip link moves focus to the content",
  );
  t.match(page.url(), /#\/market\/u0$/, "and leaves the route alone");
  t.same(errors, []);
});
