// The dashboard in a real browser against the built binary, run alone with API keys required and process
// jobs enabled: log in with a key, see the jobs, trigger a job and see its run fail, follow a running
// process's output live and kill it, pause and resume, preview a schedule with its DST notes, the failed
// runs, and the same forms with scripts disabled.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { tempDir, waitUntil } from "../helpers.ts";
import { buildBinary, type Proc, startTock } from "../e2e/process.ts";
import { launch, see, shot } from "../browser.ts";

const { dir, cleanup } = tempDir("tock-ui-");
let proc: Proc;
let browser: Browser;
let key = "";
let base = "";

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  const bin = buildBinary(join(dir, "bin"));
  const db = `file:${join(dir, "tock.db")}`;
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: process.env.TMPDIR ?? "/tmp", TOCK_LOG_LEVEL: "warn" };
  const made = spawnSync(bin, ["keys", "create", "--role", "admin", "--all-namespaces", "--name", "ops-admin", "--db", db], { encoding: "utf8", env });
  expect(made.status).toBe(0);
  key = made.stdout.trim();
  [proc, browser] = await Promise.all([
    startTock([bin, "serve"], {
      cwd: join(dir, "bin"),
      env: {
        TOCK_DATABASE_URL: db,
        TOCK_AUTH_MODE: "keys",
        TOCK_SCHEDULER_NODE_ID: "ui-node",
        TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
        TOCK_EXECUTORS_PROCESS_ENABLED: "true",
        TOCK_EXECUTORS_PROCESS_KILL_GRACE: "500ms",
      },
    }),
    launch(),
  ]);
  base = proc.url;
  const jobs: [string, string, Record<string, unknown>][] = [
    ["billing", "nightly", { schedule: "30 2 * * *", timezone: "America/New_York", target: { http: { url: "http://127.0.0.1:9/nightly" } } }],
    ["billing", "hourly", { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/hourly" } } }],
    ["ops", "tail", { target: { process: { command: ["/bin/sh", "-c", 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'] } } }],
    ["ops", "fails", { target: { process: { command: ["/bin/sh", "-c", "echo checking the disk; echo disk full >&2; exit 3"] } } }],
  ];
  for (const [ns, name, body] of jobs) expect((await api("PUT", `/api/v1/namespaces/${ns}/jobs/${name}`, body)).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  proc?.child.kill("SIGKILL");
  cleanup();
});

/** A new page, logged in with the admin key through the login form. */
async function loggedIn(opts: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts });
  const page = await context.newPage();
  page.on("dialog", (d) => void d.accept()); // the kill button asks first
  const res = await page.goto(`${base}/ui`);
  expect(res?.status()).toBe(401);
  await shot(page, "01-login");
  await page.fill('input[name="key"]', key);
  await page.click('button:has-text("Log in")');
  await page.waitForURL(`${base}/ui`);
  return page;
}

test("log in with a key, see the jobs, trigger a job and see its run fail, then the failed-runs page", async () => {
  const page = await loggedIn();
  await see(page, ".flash.ok", /^Logged\ in\ with\ key\ ops\-admin\ \(admin\)\.$/);
  for (const name of ["nightly", "hourly", "tail", "fails"]) await page.locator(`a:text-is("${name}")`).waitFor();
  expect(await page.locator("tr", { has: page.locator('a:text-is("nightly")') }).textContent()).toContain("30 2 * * * (America/New_York)");
  await shot(page, "02-jobs");

  await page.click('a:text-is("fails")');
  await page.click('button:has-text("Trigger now")');
  await page.waitForURL(/\/ui\/runs\/\d+$/);
  await see(page, ".flash.ok", "Triggered ops/fails");
  // The page follows the run live and shows its end without a reload.
  await see(page, "#run-status", /^failed$/, 15_000);
  await see(page, "#logs", "disk full");
  await page.reload();
  await see(page, "#run-error", "exit");
  await shot(page, "03-run-failed");

  await page.click('nav a:has-text("Failed runs")');
  await see(page, "table", "ops/fails");
  await shot(page, "04-failed");
  await page.context().close();
}, 60_000);

test("follow a running process's output live, then kill it", async () => {
  const page = await loggedIn();
  await page.goto(`${base}/ui/jobs/ops/tail`);
  await page.click('button:has-text("Trigger now")');
  await page.waitForURL(/\/ui\/runs\/\d+$/);
  // Lines keep arriving after the page was served: the event stream, not the page, brings them.
  const served = await page.locator("#logs > div").count();
  await see(page, "#live", /^following\ live…$/);
  await page.waitForFunction((n) => document.querySelectorAll("#logs > div").length >= n + 5, served, { timeout: 15_000 });
  await see(page, "#run-status", /^running$/);
  await shot(page, "05-run-live");

  await page.click('button:has-text("Kill")');
  await see(page, ".flash.ok", /Run #\d+ (was killed|is being stopped)/);
  // Killed at once, or once its process group is gone (its kill grace): the page says so after a reload.
  await waitUntil(async () => {
    await page.reload();
    return (await page.locator("#run-status").textContent()) === "killed";
  }, "the run to be killed", 15_000);
  expect(await page.locator('button:has-text("Kill")').count()).toBe(0);
  await page.context().close();
}, 60_000);

test("pause and resume; a schedule preview with its DST notes; upcoming fires and nodes", async () => {
  const page = await loggedIn();
  await page.goto(`${base}/ui/jobs/billing/nightly`);
  await page.click('button:has-text("Pause")');
  await see(page, ".flash.ok", "Paused billing/nightly");
  await see(page, "#job-status", /^paused$/);
  expect((await api("GET", "/api/v1/namespaces/billing/jobs/nightly")).body.enabled).toBe(false);
  await page.click('button:has-text("Resume")');
  await see(page, "#job-status", /^scheduled$/);
  await shot(page, "06-job");

  await page.click('nav a:has-text("Schedule preview")');
  // Every day of March and of November: each holds one day a zone's clocks move.
  await page.fill('input[name="spec"]', "30 1 * 11 *");
  await page.fill('input[name="timezone"]', "America/New_York");
  await page.fill('input[name="count"]', "31");
  await page.click('button:has-text("Preview")');
  await see(page, "#preview tr", "DST overlap");
  expect(await page.locator("#preview tr", { hasText: "DST overlap" }).count()).toBe(1);
  await page.fill('input[name="spec"]', "30 2 * 3 *");
  await page.click('button:has-text("Preview")');
  const gap = page.locator("#preview tr", { hasText: "DST gap" });
  await gap.waitFor();
  expect(await gap.count()).toBe(1);
  expect(await gap.textContent()).toContain("03:00:00-04:00"); // 02:30 does not exist that day: it fires at 03:00 EDT
  await shot(page, "07-preview");
  await page.fill('input[name="spec"]', "61 * * * *");
  await page.click('button:has-text("Preview")');
  await see(page, "#preview-error", "spec:");

  await page.click('nav a:has-text("Upcoming")');
  await see(page, "table", "billing/hourly");
  await shot(page, "08-upcoming");
  await page.click('nav a:has-text("Nodes")');
  await see(page, "table", "ui-node");
  await shot(page, "09-nodes");

  await page.click('button:has-text("Log out")');
  await page.waitForURL(`${base}/ui/login`);
  expect((await page.goto(`${base}/ui`))?.status()).toBe(401);
  await page.context().close();
}, 60_000);

test("with scripts disabled the forms work the same", async () => {
  const page = await loggedIn({ javaScriptEnabled: false });
  await page.goto(`${base}/ui/jobs/billing/hourly`);
  await page.click('button:has-text("Pause")');
  await see(page, "#job-status", /^paused$/);
  await page.click('button:has-text("Resume")');
  await see(page, "#job-status", /^scheduled$/);
  await page.click('button:has-text("Trigger now")');
  await page.waitForURL(/\/ui\/runs\/\d+$/);
  await see(page, ".flash.ok", "Triggered billing/hourly");
  await page.context().close();
}, 60_000);
