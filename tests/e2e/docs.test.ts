// The built binary's API description: /api/v1/openapi.json (the document the sources build, served without a
// key where keys are required) and /docs, the reference page, which loads only what the binary holds, says
// so in its Content-Security-Policy, and renders every operation in a real browser with no other host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { buildOpenApi } from "../../src/api/openapi.ts";
import { OPERATIONS } from "../../src/api/openapi/paths.ts";
import { tempDir } from "../helpers.ts";
import { launch, shot, watch } from "../browser.ts";
import { buildBinary, type Proc, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-docs-");
let tock: Proc | undefined;
let url = "";
let key = "";
afterAll(() => {
  tock?.child.kill("SIGKILL");
  cleanup();
});

beforeAll(async () => {
  const bin = buildBinary(join(dir, "bin"));
  const env = { TOCK_DATABASE_URL: `file:${join(dir, "tock.db")}`, TOCK_AUTH_MODE: "keys", TOCK_LOG_LEVEL: "warn" };
  const made = spawnSync(bin, ["keys", "create", "--role", "reader", "--all-namespaces"], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp", ...env }, timeout: 30_000 });
  expect(made.status).toBe(0);
  key = made.stdout.trim();
  tock = await startTock([bin, "serve"], { cwd: join(dir, "bin"), env: { ...env, TOCK_LOG_LEVEL: "info" } });
  url = tock.url;
}, 240_000);

/** Every source a Content-Security-Policy allows, by directive. */
const cspSources = (csp: string) => Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...sources]) => [name, sources]));

describe("the binary", () => {
  test("serves /api/v1/openapi.json without a key: the document the sources build", async () => {
    const { version } = (await (await fetch(`${url}/healthz`)).json()) as { version: string };
    const doc = await fetch(`${url}/api/v1/openapi.json`);
    expect(doc.status).toBe(200);
    expect(await doc.json()).toEqual(buildOpenApi(version));
    expect((await fetch(`${url}/api/v1/namespaces`)).status).toBe(401);
    expect((await fetch(`${url}/api/v1/namespaces`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
  });

  test("serves /docs and its files itself: no other host named, each file typed, cached for good, gzipped", async () => {
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = cspSources(page.headers.get("content-security-policy")!);
    expect(csp["default-src"]).toEqual(["'none'"]);
    for (const [directive, sources] of Object.entries(csp)) for (const s of sources) expect({ directive, s, allowed: ["'self'", "'none'", "data:"].includes(s) }).toEqual({ directive, s, allowed: true });
    const html = await page.text();
    expect(html).not.toMatch(/https?:|\/\//);
    const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((l) => !l.startsWith("data:"));
    expect(links.filter((l) => l.startsWith("docs/assets/"))).toHaveLength(4);
    const types = { css: "text/css; charset=utf-8", js: "text/javascript; charset=utf-8", json: "application/json; charset=utf-8" } as Record<string, string>;
    for (const link of links) {
      const r = await fetch(new URL(link, `${url}/docs`));
      expect({ link, status: r.status, type: r.headers.get("content-type") }).toEqual({ link, status: 200, type: types[link.split(".").pop()!] });
      const text = await r.text();
      if (!link.startsWith("docs/assets/")) continue;
      expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await fetch(new URL(link, `${url}/docs`), { headers: { "if-none-match": r.headers.get("etag")! } })).status).toBe(304);
      if (link.endsWith(".css")) {
        expect(text).not.toContain("@import");
        for (const m of text.matchAll(/url\(\s*["']?([^"')]*)/g)) expect(m[1]).toStartWith("data:");
      }
      if (link.includes("/docs.")) expect(text).not.toMatch(/https?:/); // the page's own script and style
      if (link.includes("swagger-ui-bundle")) {
        expect(text).toContain("SwaggerUIBundle");
        expect(r.headers.get("content-encoding")).toBe("gzip");
      }
    }
    expect((await fetch(`${url}/docs/assets/swagger-ui-bundle.old.js`)).status).toBe(404);
  });

  test("renders every operation in Chromium, asking no other host, with nothing blocked or failing", async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
      const seen = watch(page);
      await page.goto(`${url}/docs`);
      await page.waitForFunction((n) => document.querySelectorAll(".opblock").length >= n, OPERATIONS.length, { timeout: 20_000 });
      expect(await page.locator(".opblock").count()).toBe(OPERATIONS.length);
      expect(await page.locator(".info .title").first().textContent()).toContain("tock");
      await shot(page, "10-docs");
      // "Try it out" calls this server from the page, with the key given to "Authorize".
      expect(await page.evaluate((k) => fetch("api/v1/namespaces", { headers: { authorization: `Bearer ${k}` } }).then((r) => r.status), key)).toBe(200);
      expect(seen.requests.filter((r) => !r.startsWith(`${url}/`) && !r.startsWith("data:"))).toEqual([]);
      expect(seen.problems).toEqual([]);
      // And the policy holds: the page may not reach another host.
      expect(await page.evaluate(() => fetch("http://127.0.0.2:9/").then(() => "reached", () => "blocked"))).toBe("blocked");
      expect(seen.problems.join("\n")).toContain("Content Security Policy");
    } finally {
      await browser.close();
    }
  }, 60_000);
});
