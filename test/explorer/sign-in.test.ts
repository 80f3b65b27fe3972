// Signing in, in Chromium, against a node that restricts household data: a household's key (pasted
// as hex) opens its own statements; the key is never stored, only a session token the node
// forgets on sign-out; another household's key (from a `wattcap wallet` keystore file, opened in
// the browser) is refused that household's data but reads its own; a key that may read nothing
// and a wrong passphrase are refused with their reasons.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { grouped } from "../../explorer/src/format.js";
import { toHex } from "../../lib/bytes.js";
import { WattcapClient } from "../../rpc/client/index.js";
import { signIn } from "../../rpc/client/sign-in.js";
import { encryptKey, LIGHT_SCRYPT } from "../../rpc/wallet/keystore.js";
import { actor, operatorOf } from "../vm/helpers.js";
import { launch, openPage, screenshotDir, visit } from "./browser-fixtures.js";
import { explorerChain } from "./explorer-fixtures.js";

// biome-ignore lint/suspicious/noExplicitAny: RPC results are read loosely; the RPC tests check their shapes
type Loose = any;

const auditor = actor(70);
const stranger = actor(71);
const PASSPHRASE = "correct horse battery staple";

t.test(
  "sign in with a household key, see its statements; another household is refused",
  async (t) => {
    const chain = await explorerChain(t, { auditors: [auditor.address] });
    const { under, over } = chain;
    const client = new WattcapClient({ url: chain.node.url });
    const audit = await signIn(client, auditor.secretKey);
    t.equal(audit.auditor, true, "the SDK signs in an auditor");
    const asAuditor = (method: string, params: Record<string, unknown>): Promise<Loose> =>
      (client.call as (m: string, p: unknown) => Promise<Loose>)(method, {
        ...params,
        auth: { session: audit.session },
      });
    const statement = await asAuditor("household_statement", { address: under.hex, period: "1" });
    const overStatement = await asAuditor("household_statement", {
      address: over.hex,
      period: "1",
    });

    const dir = await mkdtemp(join(tmpdir(), "wattcap-sign-in-"));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const keystore = join(dir, `${over.hex}.json`);
    await writeFile(
      keystore,
      JSON.stringify(await encryptKey(over.secretKey, PASSPHRASE, LIGHT_SCRYPT)),
    );

    const browser = await launch(t);
    const { page, errors, dialogs } = await openPage(browser);
    const shots = await screenshotDir();
    const base = chain.explorerUrl;
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the table layout (tabs, lines) the assertions read
    const main = () => page.locator("main").innerText();
    const header = () => page.locator("#account").textContent();
    const statementRow = (s: Loose) =>
      new RegExp(`^1\\tsettled\\t${grouped(s.cap)}\\t${grouped(s.consumption)}`, "m");
    const stored = () =>
      page.evaluate(() =>
        JSON.stringify((globalThis as unknown as { sessionStorage: object }).sessionStorage),
      );
    /** Submits the sign-in form and waits for the page it leads to. */
    const submit = async (route: string) => {
      await page.click('#sign-in button[type="submit"]');
      await page.waitForFunction(
        (r) => (globalThis as unknown as { location: { hash: string } }).location.hash === r,
        route,
      );
      await visit(page, base, route);
    };

    const underPage = `#/address/${under.hex}`;
    await visit(page, base, underPage);
    let text = await main();
    t.match(text, "Restricted.", "signed out: the node keeps the household's data back");
    t.notMatch(text, statementRow(statement), "signed out: no statements");
    t.equal(await header(), "Sign in", "signed out: the header offers sign-in");
    await visit(page, base, "#/periods/u0/1");
    t.match(await main(), "Restricted.", "signed out: so are a period's statements");
    await visit(page, base, underPage);

    await page.click("main .restricted a");
    await visit(page, base, `#/sign-in/${encodeURIComponent(underPage)}`);
    await page.screenshot({ path: join(shots, "sign-in.png"), fullPage: true });
    await page.fill("#secret", `0x${toHex(stranger.secretKey)}`);
    await page.click('#sign-in button[type="submit"]');
    await page.locator("main .error").waitFor();
    t.match(
      await main(),
      "the key is no household, operator or auditor key",
      "a key that may read nothing is refused",
    );

    await page.fill("#secret", toHex(under.secretKey));
    await submit(underPage);
    text = await main();
    t.match(text, statementRow(statement), "signed in as the household: its statement");
    t.notMatch(text, "Restricted.", "signed in: nothing kept back");
    t.match(await header(), `Signed in: ${under.hex.slice(0, 8)}`, "the header shows who");
    t.equal(await page.locator("svg.chart").count(), 1, "the cap chart for the current period");
    await page.screenshot({ path: join(shots, "household-signed-in.png"), fullPage: true });

    const meterPage = `#/meter/${chain.meterUnder}`;
    await visit(page, base, meterPage);
    t.match(await main(), "Readings, newest first", "the household reads its meter's readings");
    await visit(page, base, underPage);

    const storage = await stored();
    t.notMatch(storage.toLowerCase(), toHex(under.secretKey), "the key is not stored");
    const token = JSON.parse(JSON.parse(storage)["wattcap.session"]).session as string;
    t.match(token, /^0x[0-9a-f]{64}$/, "the session token is");

    await page.reload();
    await visit(page, base, underPage);
    t.match(await main(), statementRow(statement), "a reload keeps the session");

    await page.click("#account .sign-out");
    await page.locator("main .restricted").waitFor();
    t.equal(await header(), "Sign in", "signed out again");
    t.equal(await stored(), "{}", "nothing left in sessionStorage");
    const afterSignOut = await chain.node.call("account_get", {
      address: under.hex,
      auth: { session: token },
    });
    t.equal(afterSignOut.error?.code, -32003, "the node forgot the token");

    await visit(page, base, `#/sign-in/${encodeURIComponent(underPage)}`);
    await page.setInputFiles("#keystore", keystore);
    await page.fill("#passphrase", "wrong passphrase");
    await page.click('#sign-in button[type="submit"]');
    await page.locator("main .error").waitFor();
    t.match(await main(), "wrong password", "a wrong passphrase fails the keystore's check");
    await page.setInputFiles("#keystore", keystore);
    await page.fill("#passphrase", PASSPHRASE);
    await submit(underPage);
    text = await main();
    t.match(
      text,
      `You are signed in as ${over.hex.slice(0, 8)}`,
      "another household's key: the page says who is signed in",
    );
    t.match(text, "which may not read it", "and that it may not read this household");
    t.notMatch(text, statementRow(statement), "another household's key sees no statements");

    await visit(page, base, `#/address/${over.hex}`);
    t.match(await main(), statementRow(overStatement), "but it reads its own");
    await visit(page, base, meterPage);
    t.match(await main(), "which may not read it", "nor another household's meter");

    for (const [who, key, reads] of [
      ["the utility's operator", operatorOf(0), "operator of u0: its households"],
      ["an auditor", auditor, "auditor: every household"],
    ] as const) {
      await visit(page, base, "#/sign-in");
      await page.fill("#secret", toHex(key.secretKey));
      await page.click('#sign-in button[type="submit"]');
      // A key signed in before shows its own view until this one's replaces it.
      await page.locator(`main .signed-in-view:has-text("${reads}")`).waitFor();
      t.match(await main(), `May read\n${reads}`, `${who}: the sign-in page says what it may read`);
      t.match(await header(), reads.split(":")[0] as string, `${who}: and so does the header`);
      await visit(page, base, underPage);
      t.match(await main(), statementRow(statement), `${who}: reads the household's statements`);
      await visit(page, base, "#/periods/u0/1");
      t.match(await main(), "Households' statements", `${who}: and the period's statements`);
    }

    t.same(errors, [], "no console errors");
    t.same(dialogs, [], "no dialogs");
  },
);
