// Signed callbacks: what tock sends verifies with the official `standardwebhooks` library, with one secret,
// during a rotation (both sign), per namespace, and not at all without a secret; Juice's completion
// callbacks too, and they go where the tenant's egress rules allow only.
import { afterAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { type Config, parseConfig } from "../../src/config.ts";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { createHttpExecutor } from "../../src/executors/http.ts";
import { type CallbacksConfig, createSigner } from "../../src/executors/signing.ts";
import { silentLogger } from "../../src/log.ts";
import { Egress, egressPolicy } from "../../src/net/egress.ts";
import { systemResolver } from "../../src/net/resolve.ts";
import { mapResolver, type SinkRequest, startSink, testEnv, waitUntil, withProcesses } from "../helpers.ts";

const SECRET = `whsec_${Buffer.from("a".repeat(32)).toString("base64")}`;
const PREVIOUS = `whsec_${Buffer.from("b".repeat(32)).toString("base64")}`;
const TEAM = `whsec_${Buffer.from("c".repeat(32)).toString("base64")}`;

const sink = startSink();
afterAll(() => sink.stop());

const defaults = parseConfig(null, {});
const egress = new Egress(egressPolicy(defaults.egress), systemResolver);
const callbacks = (over: Partial<CallbacksConfig>): CallbacksConfig => ({ ...defaults.callbacks, ...over });

async function send(cfg: CallbacksConfig, opts: { namespace?: string; method?: string; payload?: unknown; body?: string } = {}): Promise<SinkRequest> {
  const exec = createHttpExecutor({ userAgent: "tock-test", maxResponseBytes: 65_536, egress, signer: createSigner(cfg) });
  const n = sink.requests.length;
  const target = { url: `${sink.url}/hook`, method: opts.method ?? "POST", body: opts.body };
  const o = await exec.execute({ runId: 9, key: "42", namespace: opts.namespace ?? "ns", jobName: "j", scheduledAt: 0, attempt: 2, target, payload: opts.payload ?? null }, new AbortController().signal);
  expect(o.status).toBe("succeeded");
  return sink.requests[n];
}

const verify = (secret: string, r: SinkRequest) => new Webhook(secret).verify(r.body, r.headers);

describe("webhook-signature", () => {
  test("one secret: the request verifies, over the exact body sent", async () => {
    const r = await send(callbacks({ signingSecret: SECRET }), { payload: { hello: "wörld", n: 1 } });
    expect(r.headers["webhook-id"]).toBe("42");
    expect(r.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verify(SECRET, r)).toEqual({ hello: "wörld", n: 1 });
    expect(() => verify(PREVIOUS, r)).toThrow("No matching signature found");
    // A raw body, and no body at all (the payload signed is then "").
    const raw = await send(callbacks({ signingSecret: SECRET }), { body: "raw \u00e9 text" });
    expect(new Webhook(SECRET).verify(raw.body, raw.headers, { jsonParse: false })).toBeUndefined();
    const get = await send(callbacks({ signingSecret: SECRET }), { method: "GET" });
    expect(get.body).toBe("");
    expect(verify(SECRET, get)).toBeUndefined();
  });

  test("a tampered body, id or timestamp does not verify", async () => {
    const r = await send(callbacks({ signingSecret: SECRET }), { payload: { amount: 1 } });
    expect(() => new Webhook(SECRET).verify('{"amount":1000}', r.headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(r.body, { ...r.headers, "webhook-id": "43" })).toThrow();
    expect(() => new Webhook(SECRET).verify(r.body, { ...r.headers, "webhook-timestamp": String(Number(r.headers["webhook-timestamp"]) - 1) })).toThrow();
  });

  test("during a rotation both secrets sign, and a receiver holding either verifies", async () => {
    const r = await send(callbacks({ signingSecret: SECRET, previousSigningSecret: PREVIOUS }), { payload: { x: 1 } });
    expect(r.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verify(SECRET, r)).toEqual({ x: 1 });
    expect(verify(PREVIOUS, r)).toEqual({ x: 1 });
  });

  test("[callbacks.namespaces.NS] replaces the global secrets for that namespace only", async () => {
    const cfg = callbacks({ signingSecret: SECRET, previousSigningSecret: PREVIOUS, namespaces: { team: { signingSecret: TEAM }, quiet: {} } });
    const team = await send(cfg, { namespace: "team", payload: 1 });
    expect(verify(TEAM, team)).toBe(1);
    expect(() => verify(SECRET, team)).toThrow();
    expect(() => verify(PREVIOUS, team)).toThrow();
    expect(verify(SECRET, await send(cfg, { namespace: "other", payload: 2 }))).toBe(2);
    expect((await send(cfg, { namespace: "quiet" })).headers["webhook-signature"]).toBeUndefined();
  });

  test("no secret: no signature", async () => {
    const r = await send(defaults.callbacks, { payload: { x: 1 } });
    expect(r.headers["webhook-id"]).toBe("42");
    expect(r.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(r.headers["webhook-signature"]).toBeUndefined();
  });

  test("a job may not set webhook-signature itself", async () => {
    const env = await testEnv();
    try {
      const r = await env.call("PUT", "/api/v1/namespaces/ns/jobs/j", { target: { http: { url: sink.url, headers: { "Webhook-Signature": "v1,forged" } } } });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe("target.http.headers");
    } finally {
      await env.close();
    }
  });
});

describe("through the scheduler", () => {
  const config = { callbacks: { ...defaults.callbacks, signingSecret: SECRET, namespaces: { team: { signingSecret: TEAM } } } } satisfies Partial<Record<keyof Config, unknown>>;

  test("a job's run is signed with its namespace's secret, retries with the same webhook-id", async () => {
    const env = await testEnv({ config: { ...config, scheduler: { minEvery: 50 } }, start: true }); // retries 50 ms apart
    try {
      const failing = startSink((_, n) => new Response(n === 1 ? "again" : "ok", { status: n === 1 ? 500 : 200 }));
      try {
        await putJob(env.deps, "team", "j", { target: { http: { url: failing.url } }, payload: { p: 1 }, retry: { times: 1, interval: "50ms" } });
        await triggerJob(env.deps, "team", "j");
        await env.deps.scheduler.tick();
        await failing.waitFor(2);
        const [first, second] = failing.requests;
        expect(verify(TEAM, first)).toEqual({ p: 1 });
        expect(verify(TEAM, second)).toEqual({ p: 1 });
        expect(second.headers["webhook-id"]).toBe(first.headers["webhook-id"]);
      } finally {
        failing.stop();
      }
    } finally {
      await env.close();
    }
  });

  test("Juice completion callbacks are signed with the tenant's secret", async () => {
    const env = await testEnv({ config: { ...config, executors: withProcesses() }, start: true });
    try {
      const n = sink.requests.length;
      const r = await env.call("POST", "/v1/tasks", { taskName: "t", commands: "true", callbackUrl: `${sink.url}/cb` }, { "X-Tenant-Id": "team" });
      expect(r.body.status).toBe(0);
      await sink.waitFor(n + 1);
      const cb = sink.requests[n];
      expect(cb.path).toBe("/cb");
      expect(verify(TEAM, cb)).toMatchObject({ taskId: r.body.data.taskId, result: "FINISHED" });
    } finally {
      await env.close();
    }
  });

  test("Juice callbacks go only where the tenant's egress rules allow", async () => {
    const port = new URL(sink.url).port;
    const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
    const env = await testEnv({
      log: { ...silentLogger, warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, fields: fields ?? {} }) },
      resolver: mapResolver({ "hooks.test": ["127.0.0.1"] }),
      config: { executors: withProcesses(), egress: { ...defaults.egress, namespaces: { locked: { preset: "public-only" } } } },
      start: true,
    });
    try {
      // A literal address is refused at submission, in Juice's terms.
      const literal = await env.call("POST", "/v1/tasks", { taskName: "t", commands: "true", callbackUrl: `http://127.0.0.1:${port}/cb` }, { "X-Tenant-Id": "locked" });
      expect(literal.status).toBe(400);
      expect(literal.body.message).toBe("callbackUrl: egress: 127.0.0.1 is loopback, refused by the public-only preset of [egress.namespaces.locked]");
      // A name is refused when the callback is sent: logged, and nothing reaches the address.
      const n = sink.requests.length;
      const named = await env.call("POST", "/v1/tasks", { taskName: "t", commands: "true", callbackUrl: `http://hooks.test:${port}/cb` }, { "X-Tenant-Id": "locked" });
      expect(named.body.status).toBe(0);
      await waitUntil(() => warnings.some((w) => w.msg === "juice callback failed"), "the callback's warning", 10_000);
      expect(warnings.find((w) => w.msg === "juice callback failed")!.fields.error).toBe(
        "egress: hooks.test resolves to 127.0.0.1, which is loopback, refused by the public-only preset of [egress.namespaces.locked]",
      );
      expect(sink.requests.length).toBe(n);
    } finally {
      await env.close();
    }
  });
});
