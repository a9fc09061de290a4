// Real parts for tests: a database file in a temp dir, an HTTP sink and a TCP server on 127.0.0.1 port 0,
// and a full Deps (scheduler included) over them.
import { afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, parseConfig } from "../src/config.ts";
import { createNode, type Deps, type TockNode } from "../src/node.ts";
import { type Access, FULL_ACCESS } from "../src/domain/access.ts";
import { type Logger, silentLogger } from "../src/log.ts";
import { type Clock, systemClock } from "../src/clock.ts";
import type { Resolver } from "../src/net/resolve.ts";
import { openStore } from "../src/store/client.ts";

/**
 * Another process takes the database's write lock (BEGIN IMMEDIATE, a row written) and holds it until
 * `release()`, then commits; `locked` resolves once it holds the lock, `done` once it has exited.
 */
export async function holdLock(url: string): Promise<{ release(): void; done: Promise<void> }> {
  const { spawn } = await import("node:child_process");
  const holder = spawn(
    process.execPath,
    [
      "-e",
      `const { createClient } = require("@libsql/client");
       const c = createClient({ url: ${JSON.stringify(url)}, timeout: 30000 });
       const tx = await c.transaction("write");
       await tx.execute("CREATE TABLE IF NOT EXISTS lock_holder (n INTEGER)");
       await tx.execute("INSERT INTO lock_holder VALUES (1)");
       console.log("locked");
       process.stdin.on("data", async () => { await tx.commit(); c.close(); process.exit(0); });`,
    ],
    { cwd: join(import.meta.dir, ".."), stdio: ["pipe", "pipe", "inherit"] },
  );
  const done = new Promise<void>((r) => holder.on("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once("data", () => resolve());
    holder.once("exit", (code) => reject(new Error(`the lock holder exited (${code}) before it held the lock`)));
  });
  return { release: () => holder.stdin!.end("go\n"), done };
}

export function tempDir(prefix = "tock-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

type Overrides = { [K in keyof Config]?: Partial<Config[K]> };

export function testConfig(dbUrl: string, overrides: Overrides = {}): Config {
  const base = parseConfig(null, {}, { db: dbUrl });
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) out[k] = { ...(base as Record<string, object>)[k], ...v };
  const cfg = out as Config;
  cfg.scheduler = { ...cfg.scheduler, nodeId: cfg.scheduler.nodeId === base.scheduler.nodeId && !overrides.scheduler?.nodeId ? "test-node" : cfg.scheduler.nodeId };
  return cfg;
}

/**
 * Executors config with process, script and container jobs enabled and a short kill grace (300 ms);
 * `over` changes [executors.process], `extra` the other sections.
 */
export function withProcesses(over: Partial<Config["executors"]["process"]> = {}, extra: Partial<Config["executors"]> = {}): Partial<Config["executors"]> {
  const d = parseConfig(null, {}).executors;
  return { ...d, process: { ...d.process, enabled: true, killGrace: 300, ...over }, ...extra };
}

export interface TestEnv {
  /** The app's deps, with full access for tests that call domain verbs directly. */
  deps: Deps & { access: Access };
  app: TockNode["app"];
  dbUrl: string;
  dir: string;
  /** Calls the app in-process (app.request) with a JSON body. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** Starts the node (its scheduler, pruner, deliverer, notifier) when it was made without `start`. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Fails a write batch (throws before it reaches the database) when it returns true, or the error to throw,
 * for one of its statements.
 */
export type FailWrite = (sql: string) => boolean | Error;

/** `resolver`: how host names resolve (a mapResolver table in tests; the system's by default). */
export async function testEnv(opts: { clock?: Clock; config?: Overrides; dir?: string; start?: boolean; failWrite?: FailWrite; log?: Logger; resolver?: Resolver } = {}): Promise<TestEnv> {
  const own = opts.dir ? null : tempDir();
  const dir = opts.dir ?? own!.dir;
  const dbUrl = `file:${join(dir, "tock.db")}`;
  const config = testConfig(dbUrl, opts.config);
  // A test clock tells a time of its own: comparing it with the database's is for the tests that ask to.
  if (opts.clock && opts.config?.scheduler?.maxClockSkew === undefined) config.scheduler = { ...config.scheduler, maxClockSkew: 0 };
  const clock = opts.clock ?? systemClock;
  const store = await openStore({ url: dbUrl, busyTimeoutMs: config.database.busyTimeout }, { checkpointThread: true });
  if (opts.failWrite) {
    const fail = opts.failWrite;
    const real = store.sql;
    store.sql = {
      execute: (stmt) => real.execute(stmt),
      write(stmts) {
        for (const st of stmts) {
          const failure = fail(String(typeof st === "string" ? st : st.sql));
          if (failure) return Promise.reject(failure instanceof Error ? failure : new Error("injected write failure"));
        }
        return real.write(stmts);
      },
    };
  }
  const node = await createNode({ config, log: opts.log ?? silentLogger, clock, version: "test", store, resolver: opts.resolver });
  const app = node.app;
  const deps: TestEnv["deps"] = { ...node.deps, access: FULL_ACCESS };
  if (opts.start) await node.start();
  let closing: Promise<void> | undefined;
  return {
    deps,
    app,
    dbUrl,
    dir,
    start: () => node.start(),
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      }
      const res = await app.request(path, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    close() {
      // Idempotent: a test may close early (to reopen the file) and the file's cleanup closes again.
      closing ??= (async () => {
        await node.stop();
        own?.cleanup();
      })();
      return closing;
    },
  };
}

export interface SinkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** An HTTP server that records every request; `respond` decides the answer (default 200 "ok"). */
export function startSink(respond: (req: SinkRequest, n: number) => Response | Promise<Response> = () => new Response("ok")) {
  const requests: SinkRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const r: SinkRequest = { method: req.method, path: url.pathname, headers: Object.fromEntries(req.headers), body: await req.text(), at: Date.now() };
      requests.push(r);
      for (const w of [...waiters]) if (requests.length >= w.n) w.resolve();
      return respond(r, requests.length);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    /** Resolves once `n` requests have arrived. */
    waitFor(n: number, timeoutMs = 10_000): Promise<void> {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`sink saw ${requests.length} of ${n} requests`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
      });
    },
    stop: () => server.stop(true),
  };
}

/** A TCP server: collects what each connection sends and answers with `reply(data)` once `expect` bytes came. */
export function startTcpServer(opts: { expect: number; reply?: (data: Buffer) => Buffer | null; close?: boolean }) {
  const received: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= opts.expect) {
        received.push(buf);
        const answer = opts.reply?.(buf);
        if (answer) socket.write(answer);
        if (opts.close !== false) socket.end();
      }
    });
    socket.on("error", () => {});
  });
  return new Promise<{ port: number; received: Buffer[]; stop: () => Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        received,
        stop: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/**
 * testEnv for the tests of one file, each closed when the file's tests are done; `base` is merged under each
 * call's options (its config section by section). Call at the top level of a test file.
 */
export function envsOf(base: Parameters<typeof testEnv>[0] = {}) {
  const envs: TestEnv[] = [];
  afterAll(async () => {
    for (const e of envs.splice(0)) await e.close();
  });
  return async (opts: Parameters<typeof testEnv>[0] = {}): Promise<TestEnv> => {
    const e = await testEnv({ ...base, ...opts, config: { ...base.config, ...opts.config } });
    envs.push(e);
    return e;
  };
}

/** A logger that keeps every line (as parsed JSON objects) for a test to look at. */
export function memoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Polls `check` until it holds (for observing a real process or database, not for timing). */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a pid is a live process (a zombie, already dead but not reaped, counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** A resolver from a table; unknown names fail as getaddrinfo does. */
export function mapResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const found = table[host.toLowerCase()];
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return found;
  };
  return Object.assign(resolve, { calls });
}
