// Chromium for the explorer's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no downloaded browser), one per test file, with every console error and
// uncaught page error collected so a test can assert there were none.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import type { Test } from "tap";
import { projectRoot } from "../../explorer/build.js";

export const CHROMIUM = process.env.WATTCAP_CHROMIUM ?? "/usr/bin/chromium";

export async function launch(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions since the page opened. */
  readonly errors: string[];
  /** Dialogs (alert, confirm) the page tried to open: an XSS would show up here. */
  readonly dialogs: string[];
}

export async function openPage(
  browser: Browser,
  viewport = { width: 1280, height: 900 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { page, errors, dialogs };
}

interface PageElement {
  hasAttribute(name: string): boolean;
  querySelector(selector: string): unknown;
}
interface PageDocument {
  getElementById(id: string): PageElement | null;
}

/** Navigates to a route and waits until the page has rendered (main no longer busy). */
export async function visit(page: Page, base: string, route: string): Promise<void> {
  const url = `${base}${route}`;
  if (page.url().startsWith(base) && page.url() !== "about:blank") {
    await page.evaluate(`location.hash = ${JSON.stringify(route)}`);
  } else {
    await page.goto(url);
  }
  // A function, not a string: the page's CSP forbids eval. Typed loosely because this file
  // compiles without the DOM library.
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: PageDocument }).document;
    const main = doc.getElementById("main");
    return main !== null && !main.hasAttribute("aria-busy") && !main.querySelector(".loading");
  });
}

/**
 * Where screenshots go: dist/test-artifacts/explorer/ on every run, or docs/explorer/ (which
 * docs/explorer.md shows) when WATTCAP_UPDATE_SCREENSHOTS=1, so ordinary runs leave the
 * committed images alone.
 */
export async function screenshotDir(): Promise<string> {
  const root = projectRoot();
  const dir = process.env.WATTCAP_UPDATE_SCREENSHOTS
    ? join(root, "docs", "explorer")
    : join(root, "dist", "test-artifacts", "explorer");
  await mkdir(dir, { recursive: true });
  return dir;
}
