// The built binary, run alone, exposed as an operator would expose it: on every address, keys made with
// `tock keys`, mutual TLS, signed callbacks and sealed secrets. A request without a key, or from a client
// without a certificate, gets nowhere; the job's callback verifies with the standardwebhooks library.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { makeCerts } from "../certs.ts";
import { startSink, tempDir } from "../helpers.ts";
import { buildBinary, type Proc, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-exposed-");
const sink = startSink();
const procs: Proc[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const SIGNING = `whsec_${Buffer.alloc(32, 4).toString("base64")}`;

test("the binary on 0.0.0.0: refuses to start without a key, then serves keys over mutual TLS and signs callbacks", async () => {
  const bin = buildBinary(join(dir, "bin"));
  const certs = makeCerts(dir);
  const db = `file:${join(dir, "tock.db")}`;
  const env = {
    TOCK_DATABASE_URL: db,
    TOCK_SERVER_HOST: "0.0.0.0",
    TOCK_SERVER_HOSTS: '["localhost", "127.0.0.1"]',
    TOCK_SERVER_TLS_CERT: certs.serverCert,
    TOCK_SERVER_TLS_KEY: certs.serverKey,
    TOCK_SERVER_TLS_CLIENT_CA: certs.ca,
    TOCK_CALLBACKS_SIGNING_SECRET: SIGNING,
    TOCK_SECRETS_KEY: Buffer.alloc(32, 8).toString("base64"),
    TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  };
  const run = (...args: string[]) => spawnSync(bin, args, { cwd: join(dir, "bin"), encoding: "utf8", env: { PATH: process.env.PATH ?? "", TMPDIR: process.env.TMPDIR ?? "/tmp", HOME: process.env.HOME ?? "/tmp", TOCK_SERVER_PORT: "0", ...env }, timeout: 30_000 });

  const refused = run("serve");
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toContain("tock keys create");

  const made = run("keys", "create", "--role", "writer", "--namespace", "edge", "--name", "edge app");
  expect(made.status).toBe(0);
  const key = made.stdout.trim();

  const tock = await startTock([bin, "serve"], { cwd: join(dir, "bin"), env });
  procs.push(tock);
  expect(tock.url).toStartWith("https://");
  const url = tock.url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "127.0.0.1");
  const tls = { ca: certs.pem.ca, ...certs.pem.client };
  const call = (path: string, init: RequestInit & { tls?: object } = {}) => fetch(`${url}${path}`, { tls, keepalive: false, ...init } as RequestInit);

  await expect(call("/healthz", { tls: { ca: certs.pem.ca } })).rejects.toThrow(); // no client certificate
  expect((await call("/api/v1/namespaces/edge/jobs")).status).toBe(401);
  const job = { dueTime: "300ms", payload: { hello: "edge" }, target: { http: { url: `${sink.url}/edge`, headers: { Authorization: "Bearer downstream-secret" } } } };
  const put = await call("/api/v1/namespaces/edge/jobs/one", { method: "PUT", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(job) });
  expect(put.status).toBe(201);
  expect(((await put.json()) as { target: { http: { headers: unknown } } }).target.http.headers).toEqual({ Authorization: "<secret>" });

  await sink.waitFor(1, 15_000);
  const req = sink.requests[0];
  expect(req.headers.authorization).toBe("Bearer downstream-secret");
  expect(new Webhook(SIGNING).verify(req.body, req.headers)).toEqual({ hello: "edge" });
  for (const f of ["tock.db", "tock.db-wal"]) expect(readFileSync(join(dir, f)).includes(Buffer.from("downstream-secret"))).toBe(false);
}, 120_000);
