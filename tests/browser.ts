// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; no browser is downloaded) for
// the tests of what tock shows a person (the dashboard, the API reference page), and screenshots of pages
// into $UI_SHOTS when that is set. Nothing leaves this machine: the browser's own background traffic is
// off and every host but 127.0.0.1 is unresolvable.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

/** One browser per test file: launched headless, sandbox off (tests run as root), quiet (no updates, no sync). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-domain-reliability",
      "--no-pings",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/** What a page asked for and what went wrong in it (console errors and warnings, exceptions, failed loads), as it goes. */
export function watch(page: Page): { requests: string[]; problems: string[] } {
  const seen = { requests: [] as string[], problems: [] as string[] };
  page.on("request", (r) => seen.requests.push(r.url().startsWith("data:") ? r.url().slice(0, 40) : r.url()));
  page.on("requestfailed", (r) => seen.problems.push(`load failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("pageerror", (e) => seen.problems.push(`exception: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") seen.problems.push(`console.${m.type()}: ${m.text()}`);
  });
  return seen;
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
