// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser is downloaded) for
// the dashboard's browser tests, and screenshots of its pages into $UI_SHOTS when that is set.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** One browser per test file: launched headless, sandbox off (tests run as root), quiet (no updates, no sync). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Saves a full-page screenshot as <dir>/<name>.png when UI_SHOTS is set: to that folder, or /tmp/ui-shots for UI_SHOTS=1. */
export async function shot(page: Page, name: string): Promise<void> {
  const want = process.env.UI_SHOTS;
  if (!want || want === "0") return;
  const dir = want === "1" || want === "true" ? "/tmp/ui-shots" : want;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** Waits until an element matching `selector` shows `text` (a RegExp: matches it), as the page changes. */
export async function see(page: Page, selector: string, text: string | RegExp, timeout = 10_000): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout });
}
