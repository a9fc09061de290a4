// A page loaded in headless Chromium, for the tests of what tock shows a person: what the page asked for,
// what went wrong in it (console errors, exceptions, blocked loads, Content-Security-Policy violations), and
// what its DOM holds. Chromium is driven over the DevTools protocol (a WebSocket), so no package is needed;
// only the browser, which tests skip without (browserPath() is null). Every host but 127.0.0.1 is made
// unresolvable and the browser's own background traffic is off: nothing leaves this machine.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Chromium's executable: $TOCK_TEST_CHROMIUM, else the first of the usual names on PATH; null without one. */
export function browserPath(): string | null {
  if (process.env.TOCK_TEST_CHROMIUM) return process.env.TOCK_TEST_CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export interface LoadedPage {
  /** Every URL the page requested (data: URLs cut short). */
  requests: string[];
  /** Console errors and warnings, uncaught exceptions, failed loads and log entries (CSP violations among them). */
  problems: string[];
  /** Evaluates an expression in the page (awaiting a promise) and returns its value. */
  evaluate(expression: string): Promise<unknown>;
  close(): void;
}

/** Opens `url` and waits until `ready` (an expression) is true in it, or `timeoutMs` passes. */
export async function loadPage(browser: string, url: string, ready: string, timeoutMs = 20_000): Promise<LoadedPage> {
  const profile = mkdtempSync(join(tmpdir(), "tock-chromium-"));
  const args = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--remote-debugging-port=0",
    `--user-data-dir=${profile}`,
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-client-side-phishing-detection",
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate,SpellCheck",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,1800",
    "about:blank",
  ];
  const child: ChildProcess = spawn(browser, args, { stdio: ["ignore", "ignore", "pipe"] });
  const close = () => {
    child.kill("SIGKILL");
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = "";
      const timer = setTimeout(() => reject(new Error(`Chromium did not start:\n${err}`)), 30_000);
      child.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const base = endpoint.replace(/^ws:/, "http:").replace(/\/devtools\/.*$/, "");
    const targets = (await (await fetch(`${base}/json`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
    const ws = new WebSocket(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
    await new Promise((r, j) => ((ws.onopen = r), (ws.onerror = j)));
    let id = 0;
    const pending = new Map<number, (v: { result?: any; error?: any }) => void>();
    const send = (method: string, params: object = {}) =>
      new Promise<any>((resolve, reject) => {
        pending.set(++id, (m) => (m.error ? reject(new Error(`${method}: ${JSON.stringify(m.error)}`)) : resolve(m.result)));
        ws.send(JSON.stringify({ id, method, params }));
      });
    const requests: string[] = [];
    const problems: string[] = [];
    ws.onmessage = (event) => {
      const m = JSON.parse(String(event.data));
      if (m.id) return pending.get(m.id)?.(m);
      const p = m.params;
      if (m.method === "Network.requestWillBeSent") requests.push(p.request.url.startsWith("data:") ? p.request.url.slice(0, 40) : p.request.url);
      else if (m.method === "Network.loadingFailed") problems.push(`load failed: ${p.errorText} ${p.blockedReason ?? ""}`);
      else if (m.method === "Runtime.exceptionThrown") problems.push(`exception: ${p.exceptionDetails.exception?.description ?? p.exceptionDetails.text}`);
      else if (m.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "warning")) problems.push(`console.${p.type}: ${JSON.stringify(p.args.map((a: any) => a.value ?? a.description))}`);
      else if (m.method === "Log.entryAdded" && p.entry.level !== "verbose") problems.push(`log (${p.entry.source}): ${p.entry.text}`);
    };
    for (const domain of ["Network", "Runtime", "Log", "Page"]) await send(`${domain}.enable`);
    const evaluate = async (expression: string) => {
      const r = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
      if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    };
    await send("Page.navigate", { url });
    const deadline = Date.now() + timeoutMs;
    while (!(await evaluate(`Boolean(${ready})`).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${url}: not ready (${ready}) after ${timeoutMs} ms; problems: ${problems.join("; ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { requests, problems, evaluate, close: () => (ws.close(), close()) };
  } catch (e) {
    close();
    throw e;
  }
}
