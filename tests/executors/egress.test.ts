// Egress at each attempt: HTTP and TCP targets are resolved once, every address is judged, and the
// connection goes to an address that was judged (with the Host header and TLS name of the URL kept), so a
// name that resolves, or later rebinds, to a refused address never reaches it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { createHttpExecutor } from "../../src/executors/http.ts";
import { createTcpExecutor } from "../../src/executors/tcp.ts";
import type { ExecRequest } from "../../src/executors/types.ts";
import { Egress, type EgressConfig, egressPolicy } from "../../src/net/egress.ts";
import type { Resolver } from "../../src/net/resolve.ts";
import { createPinnedFetch } from "../../src/runtime/fetch.ts";
import { read } from "../../src/store/sql.ts";
import { mapResolver, startSink, startTcpServer, tempDir, testEnv } from "../helpers.ts";

const sink = startSink();
const port = Number(new URL(sink.url).port);
afterAll(() => sink.stop());

const egressOf = (resolver: Resolver, over: Partial<EgressConfig> = {}) => new Egress(egressPolicy({ ...parseConfig(null, {}).egress, ...over }), resolver);
const httpExec = (egress: Egress, fetch = createPinnedFetch()) => createHttpExecutor({ userAgent: "tock-test", maxResponseBytes: 65_536, egress, fetch });
const req = (target: unknown, namespace = "ns"): ExecRequest => ({ runId: 1, key: "1", namespace, jobName: "j", scheduledAt: 0, attempt: 1, target, payload: { a: 1 } });
const run = (exec: ReturnType<typeof httpExec>, url: string, namespace = "ns") => exec.execute(req({ url }, namespace), new AbortController().signal);

const resolver = mapResolver({
  "pinned.test": ["127.0.0.1"],
  "meta.test": ["169.254.169.254"],
  "mixed.test": ["169.254.169.254", "127.0.0.1"],
  "refused-first.test": ["127.0.0.2", "127.0.0.1"], // nothing listens on 127.0.0.2 at the sink's port
  "localhost": ["127.0.0.1"],
});

describe("HTTP", () => {
  test("a name is resolved once and the request goes to the address judged, with the URL's Host header", async () => {
    const before = sink.requests.length;
    const calls = resolver.calls.length;
    const o = await run(httpExec(egressOf(resolver)), `http://pinned.test:${port}/hook?x=1`);
    expect(o).toMatchObject({ status: "succeeded", result: { status: 200, body: "ok" } });
    expect(resolver.calls.length - calls).toBe(1);
    const got = sink.requests[before];
    expect(got).toMatchObject({ method: "POST", path: "/hook", body: '{"a":1}' });
    expect(got.headers.host).toBe(`pinned.test:${port}`);
  });

  test("a rebinding name cannot move the connection after the check", async () => {
    // Answers a harmless address once, then the metadata address: a client that resolved again to connect would go there.
    let n = 0;
    const rebinding: Resolver = async () => (n++ === 0 ? ["127.0.0.1"] : ["169.254.169.254"]);
    const before = sink.requests.length;
    const o = await run(httpExec(egressOf(rebinding)), `http://rebind.test:${port}/r`);
    expect(o.status).toBe("succeeded");
    expect(n).toBe(1);
    expect(sink.requests[before].headers.host).toBe(`rebind.test:${port}`);
    // The next attempt resolves again, and is refused.
    expect((await run(httpExec(egressOf(rebinding)), `http://rebind.test:${port}/r`)).error).toBe(
      "egress: rebind.test resolves to 169.254.169.254, which is link-local (cloud metadata), refused by the default preset",
    );
  });

  test("a name resolving to a refused address fails the attempt with the rule, without connecting", async () => {
    expect(await run(httpExec(egressOf(resolver)), "http://meta.test/latest/meta-data/")).toEqual({
      status: "failed",
      error: "egress: meta.test resolves to 169.254.169.254, which is link-local (cloud metadata), refused by the default preset",
    });
    const before = sink.requests.length;
    const strict = httpExec(egressOf(resolver, { preset: "public-only" }));
    expect((await run(strict, `http://pinned.test:${port}/`)).error).toBe("egress: pinned.test resolves to 127.0.0.1, which is loopback, refused by the public-only preset");
    expect((await run(strict, `http://localhost:${port}/`)).error).toContain("localhost resolves to 127.0.0.1, which is loopback");
    expect(sink.requests.length).toBe(before);
  });

  test("a name resolving to a refused and an allowed address goes to the allowed one", async () => {
    const before = sink.requests.length;
    expect((await run(httpExec(egressOf(resolver)), `http://mixed.test:${port}/m`)).status).toBe("succeeded");
    expect(sink.requests[before].headers.host).toBe(`mixed.test:${port}`);
  });

  test("an address that refuses the connection gives way to the next one judged", async () => {
    expect((await run(httpExec(egressOf(resolver)), `http://refused-first.test:${port}/`)).status).toBe("succeeded");
  });

  test("literal addresses in any spelling, IPv6 forms and userinfo tricks are judged at the attempt too", async () => {
    const exec = httpExec(egressOf(resolver));
    const meta = "egress: 169.254.169.254 is link-local (cloud metadata), refused by the default preset";
    for (const url of ["http://169.254.169.254/", "http://0xa9fea9fe/", "http://[::ffff:a9fe:a9fe]/", "http://a@169.254.169.254/", "http://a:b@0251.0376.0251.0376:80/"]) {
      expect(await run(exec, url)).toEqual({ status: "failed", error: meta });
    }
    expect((await run(exec, "http://[64:ff9b::a9fe:a9fe]/")).error).toContain("carries 169.254.169.254");
    expect((await run(exec, "http://[fe80::1]/")).error).toContain("fe80::1 is link-local");
    // The host is what follows the @: here a name, resolved and judged.
    expect((await run(exec, `http://169.254.169.254@pinned.test:${port}/`)).status).toBe("succeeded");
    expect((await run(exec, "http://169.254.169.254@meta.test/")).error).toContain("meta.test resolves to 169.254.169.254");
    // Every spelling of loopback reaches the sink under the default preset, and none under public-only.
    const strict = httpExec(egressOf(resolver, { preset: "public-only" }));
    for (const host of ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:7f00:1]", "[::ffff:127.0.0.1]"]) {
      expect((await run(exec, `http://${host}:${port}/`)).status).toBe("succeeded");
      expect((await run(strict, `http://${host}:${port}/`)).error).toBe("egress: 127.0.0.1 is loopback, refused by the public-only preset");
    }
  });

  test("a per-namespace override applies to that namespace's attempts", async () => {
    const exec = httpExec(egressOf(resolver, { namespaces: { locked: { deny: ["127.0.0.0/8"] } } }));
    expect((await run(exec, `http://pinned.test:${port}/`, "open")).status).toBe("succeeded");
    expect((await run(exec, `http://pinned.test:${port}/`, "locked")).error).toBe(
      'egress: pinned.test resolves to 127.0.0.1, which is refused by [egress.namespaces.locked] deny "127.0.0.0/8"',
    );
  });

  test("a name that does not resolve fails the attempt", async () => {
    expect(await run(httpExec(egressOf(resolver)), "http://nowhere.test/")).toEqual({ status: "failed", error: "cannot resolve nowhere.test: getaddrinfo ENOTFOUND nowhere.test" });
  });

  test("only http and https are sent, whatever a stored target says", async () => {
    for (const url of ["file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1:70/"]) {
      expect(await run(httpExec(egressOf(resolver)), url)).toEqual({ status: "failed", error: `only http:// and https:// URLs are called, not ${new URL(url).protocol}//` });
    }
  });
});

describe("HTTPS to a pinned address", () => {
  // A CA and a certificate for pinned.test, made by openssl for this run.
  const { dir, cleanup } = tempDir("tock-tls-");
  let server: ReturnType<typeof Bun.serve> | undefined;
  let ca = "";
  const hasOpenssl = (() => {
    try {
      execFileSync("openssl", ["version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  beforeAll(() => {
    if (!hasOpenssl) return;
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    ssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=tock test CA");
    ssl("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=pinned.test");
    writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:pinned.test\nbasicConstraints=CA:FALSE\n");
    ssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "ext.cnf");
    ca = readFileSync(join(dir, "ca.pem"), "utf8");
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { cert: readFileSync(join(dir, "leaf.pem"), "utf8"), key: readFileSync(join(dir, "leaf.key"), "utf8") },
      fetch: (r) => new Response(`host=${r.headers.get("host")}`),
    });
  });
  afterAll(() => {
    server?.stop(true);
    cleanup();
  });

  test.skipIf(!hasOpenssl)("the certificate is verified against the URL's name, over the connection to the address judged", async () => {
    const tls = mapResolver({ "pinned.test": ["127.0.0.1"], "other.test": ["127.0.0.1"] });
    const exec = httpExec(egressOf(tls), createPinnedFetch({ ca }));
    const p = server!.port;
    expect(await run(exec, `https://pinned.test:${p}/`)).toMatchObject({ status: "succeeded", result: { body: `host=pinned.test:${p}` } });
    // Same address, another name: the certificate does not cover it.
    const other = await run(exec, `https://other.test:${p}/`);
    expect(other.status).toBe("failed");
    expect(other.error).toMatch(/ALTNAME|altname|not valid for|does not match/i);
  });
});

describe("TCP", () => {
  test("connects to the address judged; names, spellings and refusals as for HTTP", async () => {
    const server = await startTcpServer({ expect: 2, reply: () => Buffer.from("ok") });
    try {
      const exec = (over: Partial<EgressConfig> = {}) => createTcpExecutor({ connectTimeoutMs: 5000, maxResponseBytes: 1024, egress: egressOf(resolver, over) });
      const target = (addr: string) => req({ addr, body: Buffer.from("hi").toString("base64"), ack: Buffer.from("ok").toString("base64") });
      const signal = new AbortController().signal;
      for (const host of ["pinned.test", "refused-first.test", "mixed.test", "127.1", "0x7f.1", "2130706433", "[::ffff:7f00:1]"]) {
        expect((await exec().execute(target(`${host}:${server.port}`), signal)).status).toBe("succeeded");
      }
      expect(server.received.length).toBe(7);
      const strict = exec({ preset: "public-only" });
      expect((await strict.execute(target(`0x7f.1:${server.port}`), signal)).error).toBe("egress: 127.0.0.1 is loopback, refused by the public-only preset");
      expect((await strict.execute(target(`pinned.test:${server.port}`), signal)).error).toBe("egress: pinned.test resolves to 127.0.0.1, which is loopback, refused by the public-only preset");
      expect((await exec().execute(target("meta.test:80"), signal)).error).toContain("meta.test resolves to 169.254.169.254, which is link-local");
      expect((await exec().execute(target("[::ffff:a9fe:a9fe]:80"), signal)).error).toBe("egress: 169.254.169.254 is link-local (cloud metadata), refused by the default preset");
      expect(server.received.length).toBe(7);
    } finally {
      await server.stop();
    }
  });
});

describe("through the scheduler", () => {
  test("a run whose name resolves to a refused address fails with the rule in its error", async () => {
    const env = await testEnv({ resolver, config: { egress: { ...parseConfig(null, {}).egress, namespaces: { strict: { preset: "public-only" } } } }, start: true });
    try {
      // A name passes creation (its addresses are not known yet)...
      await putJob(env.deps, "strict", "j", { target: { http: { url: `http://pinned.test:${port}/` } } });
      await triggerJob(env.deps, "strict", "j");
      await env.deps.scheduler.tick();
      await env.deps.scheduler.idle();
      const [r] = await read(env.deps.store, "SELECT status, error FROM runs");
      // ...and its attempt is refused once they are.
      expect(r).toMatchObject({ status: "failed", error: "egress: pinned.test resolves to 127.0.0.1, which is loopback, refused by the public-only preset of [egress.namespaces.strict]" });
    } finally {
      await env.close();
    }
  });

  test("a job created before the policy was tightened fails at its next attempt", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const before = await testEnv({ dir });
      await putJob(before.deps, "ns", "old", { target: { http: { url: `http://127.0.0.1:${port}/` } } });
      await before.close();
      const after = await testEnv({ dir, config: { egress: { ...parseConfig(null, {}).egress, preset: "public-only" } }, start: true });
      try {
        const requests = sink.requests.length;
        await triggerJob(after.deps, "ns", "old");
        await after.deps.scheduler.tick();
        await after.deps.scheduler.idle();
        const [r] = await read(after.deps.store, "SELECT status, error FROM runs");
        expect(r).toMatchObject({ status: "failed", error: "egress: 127.0.0.1 is loopback, refused by the public-only preset" });
        expect(sink.requests.length).toBe(requests);
      } finally {
        await after.close();
      }
    } finally {
      cleanup();
    }
  });
});
