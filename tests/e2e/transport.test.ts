// tock started for real (`bun src/main.ts serve`, and on Deno) with [server.tls] and [server] socket: HTTPS
// with mutual TLS, the Unix socket, the database file's mode, a masked start-up line, and the refusals.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeCerts } from "../certs.ts";
import { tempDir } from "../helpers.ts";
import { type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-transport-");
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  cleanup();
});
const certs = makeCerts(dir);
const BUN = [process.execPath, join(ROOT, "src/main.ts"), "serve"];
const DENO = [join(ROOT, "node_modules/.bin/deno"), "run", "-A", join(ROOT, "src/main.ts"), "serve"];

const tlsEnv = { TOCK_SERVER_TLS_CERT: certs.serverCert, TOCK_SERVER_TLS_KEY: certs.serverKey };
const mtlsEnv = { ...tlsEnv, TOCK_SERVER_TLS_CLIENT_CA: certs.ca };

/** Runs tock until it exits (it is expected to refuse to start): its exit code and output. */
function refused(cmd: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(cmd[0], cmd.slice(1), {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TMPDIR: process.env.TMPDIR ?? "/tmp", TOCK_SERVER_PORT: "0", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, output })));
}

// A new connection each time: a pooled one would carry an earlier handshake's client certificate.
const get = (url: string, init: BunFetchRequestInit = {}) => fetch(url, { ...init, keepalive: false });
const modeOf = (path: string) => statSync(path).mode & 0o777;

test("on Bun: HTTPS with mutual TLS, the Unix socket 0660, the database 0600, the token masked; a stale socket replaced, a live one refused", async () => {
  const socket = join(dir, "tock.sock");
  const db = join(dir, "tock.db");
  const env = { ...mtlsEnv, TOCK_SERVER_SOCKET: socket, TOCK_DATABASE_URL: `file:${db}?authToken=SECRET-TOKEN-123`, TOCK_SCHEDULER_NODE_ID: "bun-tls" };
  const tock = await startTock(BUN, { cwd: dir, env });
  procs.push(tock);

  // The start-up line: https, the socket, and the database URL without its token.
  const serving = JSON.parse(tock.logs.find((l) => l.includes('"tock serving"'))!);
  expect(serving.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(serving).toMatchObject({ socket, database: `file:${db}?authToken=***` });
  expect(tock.logs.join("\n")).not.toContain("SECRET-TOKEN-123");

  // Mutual TLS: no client certificate, or one from another CA, cannot connect; the CA's own client can.
  const healthz = `${tock.url}/healthz`;
  await expect(get(healthz, { tls: { ca: certs.pem.ca } })).rejects.toThrow();
  await expect(get(healthz, { tls: { ca: certs.pem.ca, ...certs.pem.rogue } })).rejects.toThrow();
  const ok = await get(healthz, { tls: { ca: certs.pem.ca, ...certs.pem.client } });
  expect(ok.status).toBe(200);
  const put = await get(`${tock.url}/api/v1/namespaces/tls/jobs/one`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ target: { http: { url: "http://127.0.0.1:9/" } } }),
    tls: { ca: certs.pem.ca, ...certs.pem.client },
  });
  expect(put.status).toBe(201);

  // The socket answers plain HTTP, and only owner and group may connect.
  expect(lstatSync(socket).isSocket()).toBe(true);
  expect(modeOf(socket)).toBe(0o660);
  const overSocket = await get("http://localhost/api/v1/namespaces/tls/jobs/one", { unix: socket });
  expect(overSocket.status).toBe(200);
  expect((await overSocket.json()).name).toBe("one");

  // The database and its -wal: owner only.
  expect([modeOf(db), modeOf(`${db}-wal`)]).toEqual([0o600, 0o600]);

  // A second tock on the same socket is refused while the first listens there.
  const second = await refused(BUN, { ...env, TOCK_SCHEDULER_NODE_ID: "bun-tls-2" });
  expect(second.code).not.toBe(0);
  expect(second.output).toContain(`server.socket: something is listening on ${socket}`);
  expect((await get("http://localhost/healthz", { unix: socket })).status).toBe(200);

  // Killed outright, tock leaves its socket file behind; the next start replaces it.
  tock.child.kill("SIGKILL");
  await tock.exited;
  expect(lstatSync(socket).isSocket()).toBe(true);
  const again = await startTock(BUN, { cwd: dir, env });
  procs.push(again);
  expect((await get("http://localhost/healthz", { unix: socket })).status).toBe(200);
  // Stopped, it removes the socket.
  again.child.kill("SIGTERM");
  expect(await again.exited).toBe(0);
  expect(existsSync(socket)).toBe(false);
}, 60_000);

test("a PEM file that cannot be read or is not PEM stops start-up, naming the key and the file, before a database is made", async () => {
  const db = join(dir, "never.db");
  const missing = join(dir, "missing.pem");
  const r = await refused(BUN, { TOCK_SERVER_TLS_CERT: missing, TOCK_SERVER_TLS_KEY: certs.serverKey, TOCK_DATABASE_URL: `file:${db}` });
  expect(r.code).toBe(2);
  expect(r.output).toContain(`server.tls.cert: cannot read ${missing}: no such file`);
  const junk = await refused(BUN, { ...tlsEnv, TOCK_SERVER_TLS_CLIENT_CA: certs.serverKey, TOCK_DATABASE_URL: `file:${db}` });
  expect(junk.code).toBe(2);
  expect(junk.output).toContain(`server.tls.client_ca: ${certs.serverKey} holds no PEM certificate`);
  expect(existsSync(db)).toBe(false);
}, 30_000);

test("on Deno: client_ca refuses to start, saying Deno cannot do mutual TLS; HTTPS and the socket work", async () => {
  const denoDb = join(dir, "deno.db");
  const r = await refused(DENO, { ...mtlsEnv, TOCK_DATABASE_URL: `file:${denoDb}` });
  expect(r.code).toBe(2);
  expect(r.output).toContain("server.tls.client_ca: mutual TLS is not available on Deno");
  expect(existsSync(denoDb)).toBe(false);

  const socket = join(dir, "deno.sock");
  const tock = await startTock(DENO, {
    cwd: dir,
    env: { ...tlsEnv, TOCK_SERVER_SOCKET: socket, TOCK_DATABASE_URL: `file:${denoDb}`, TOCK_SCHEDULER_NODE_ID: "deno-tls", DENO_NO_UPDATE_CHECK: "1" },
    timeoutMs: 60_000,
  });
  procs.push(tock);
  expect(tock.url).toMatch(/^https:\/\//);
  expect((await get(`${tock.url}/healthz`, { tls: { ca: certs.pem.ca } })).status).toBe(200);
  await expect(get(`${tock.url}/healthz`)).rejects.toThrow();
  expect(modeOf(socket)).toBe(0o660);
  expect((await get("http://localhost/healthz", { unix: socket })).status).toBe(200);
  expect([modeOf(denoDb), modeOf(`${denoDb}-wal`)]).toEqual([0o600, 0o600]);
  tock.child.kill("SIGTERM");
  expect(await tock.exited).toBe(0);
  expect(existsSync(socket)).toBe(false);
}, 120_000);
