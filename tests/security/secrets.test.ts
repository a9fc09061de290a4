// Secret values are write-only: credential headers, URL credentials, secret variables and a trigger's
// variables never come back from an API, a log line or a run record; a GET-then-PUT round trip keeps them;
// with [secrets] key they are sealed in the database (AES-256-GCM), and keys can be rotated.
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../src/config.ts";
import { SecretBox } from "../../src/domain/secrets.ts";
import { read } from "../../src/store/sql.ts";
import { envsOf, memoryLogger, startSink, tempDir, type TestEnv, waitUntil, withProcesses } from "../helpers.ts";

const sink = startSink();
afterAll(() => sink.stop());
const env = envsOf({ start: true, config: { scheduler: { pollInterval: 100 } } });
const defaults = parseConfig(null, {});
const KEY_A = Buffer.alloc(32, 1).toString("base64");
const KEY_B = Buffer.alloc(32, 2).toString("base64");
const withKeys = (key?: string, previousKey?: string) => ({ ...defaults.secrets, key, previousKey });

const TOKEN = "Bearer s3cr3t-token-value";
const headers = { Authorization: TOKEN, Cookie: "session=c00kie-value", "X-Api-Key": "ap1-key-value", "X-Signing": "s1gning-value", "X-Plain": "visible" };
const VALUES = ["s3cr3t-token-value", "c00kie-value", "ap1-key-value", "s1gning-value"];
const noSecretIn = (x: unknown) => {
  const text = JSON.stringify(x);
  for (const v of VALUES) expect(text).not.toContain(v);
};

async function fired(e: TestEnv, path: string, n = 1) {
  await waitUntil(() => sink.requests.filter((r) => r.path === path).length >= n, `${n} request(s) at ${path}`);
  return sink.requests.filter((r) => r.path === path);
}

describe("write-only values", () => {
  test("credential headers and secretHeaders never come back from any API, yet reach the receiver", async () => {
    const e = await env();
    const put = await e.call("PUT", "/api/v1/namespaces/n/jobs/h", { dueTime: "1s", target: { http: { url: `${sink.url}/h`, headers, secretHeaders: ["x-signing"] } } });
    expect(put.status).toBe(201);
    const shown = { Authorization: "<secret>", Cookie: "<secret>", "X-Api-Key": "<secret>", "X-Signing": "<secret>", "X-Plain": "visible" };
    expect(put.body.target.http.headers).toEqual(shown);
    for (const path of ["/api/v1/namespaces/n/jobs/h", "/api/v1/namespaces/n/jobs", "/jobs/n/h"]) noSecretIn((await e.call("GET", path)).body);
    const [req] = await fired(e, "/h");
    expect(req.headers).toMatchObject({ authorization: TOKEN, cookie: "session=c00kie-value", "x-api-key": "ap1-key-value", "x-signing": "s1gning-value", "x-plain": "visible" });
    noSecretIn((await e.call("GET", "/api/v1/namespaces/n/jobs/h/runs")).body);
  });

  test("a GET-then-PUT round trip keeps the stored values, natively and through DCS", async () => {
    const e = await env();
    await e.call("PUT", "/api/v1/namespaces/n/jobs/rt", { schedule: "@every 1h", target: { http: { url: `${sink.url}/rt`, headers } } });
    const got = (await e.call("GET", "/api/v1/namespaces/n/jobs/rt")).body;
    const { schedule, target } = got;
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/rt", { schedule, target, memo: "edited" })).status).toBe(200);
    // Through DCS too: its GET shows the placeholder, its PUT keeps the value.
    const dcs = (await e.call("GET", "/jobs/n/rt")).body;
    expect(dcs.callback.http.header.Authorization).toBe("<secret>");
    expect((await e.call("PUT", "/jobs/n/rt", dcs)).status).toBe(200);
    await e.call("POST", "/api/v1/namespaces/n/jobs/rt/trigger");
    const [req] = await fired(e, "/rt");
    expect(req.headers.authorization).toBe(TOKEN);
    expect(req.headers.cookie).toBe("session=c00kie-value");
  });

  test('"<secret>" for a value the job does not have is a 400 naming the header, and stores nothing', async () => {
    const e = await env();
    const r = await e.call("PUT", "/api/v1/namespaces/n/jobs/new", { target: { http: { url: `${sink.url}/x`, headers: { Authorization: "<secret>" } } } });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe("target.http.headers.Authorization");
    expect((await e.call("GET", "/api/v1/namespaces/n/jobs/new")).status).toBe(404);
  });

  test("URL credentials become a write-only Authorization header", async () => {
    const e = await env();
    const put = await e.call("PUT", "/api/v1/namespaces/n/jobs/u", { dueTime: "1s", target: { http: { url: `${sink.url.replace("http://", "http://us%40er:p%3Ass@")}/u` } } });
    expect(put.status).toBe(201);
    expect(put.body.target.http.url).toBe(`${sink.url}/u`);
    expect(put.body.target.http.headers).toEqual({ Authorization: "<secret>" });
    const [req] = await fired(e, "/u");
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from("us@er:p:ss").toString("base64")}`);
    const both = await e.call("PUT", "/api/v1/namespaces/n/jobs/u2", { target: { http: { url: "http://a:b@127.0.0.1:9/", headers: { authorization: "x" } } } });
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe("target.http.url");
  });

  test("secretEnv values and a trigger's variables are write-only, and the process sees them", async () => {
    const e = await env({ config: { executors: withProcesses(), scheduler: { pollInterval: 100 }, secrets: withKeys(KEY_A) } });
    const put = await e.call("PUT", "/api/v1/namespaces/n/jobs/p", {
      target: { process: { command: ["/bin/sh", "-c", 'echo "$DB_PASS $REGION $RUN_TOKEN"'], env: { DB_PASS: "pa55word", REGION: "eu" }, secretEnv: ["DB_PASS"] } },
    });
    expect(put.body.target.process.env).toEqual({ DB_PASS: "<secret>", REGION: "eu" });
    const t = await e.call("POST", "/api/v1/namespaces/n/jobs/p/trigger", { env: { RUN_TOKEN: "tr1gger-value" } });
    expect(t.body.params).toEqual({ env: { RUN_TOKEN: "<secret>" } });
    await waitUntil(async () => (await e.call("GET", `/api/v1/runs/${t.body.id}`)).body.status === "succeeded", "the run");
    const lines = (await e.call("GET", `/api/v1/runs/${t.body.id}/logs`)).body.items.map((l: { line: string }) => l.line);
    expect(lines).toEqual(["pa55word eu tr1gger-value"]); // the job's own output is its business
    const stored = JSON.stringify(await read(e.deps.store, "SELECT target, params FROM jobs LEFT JOIN runs ON runs.job_id = jobs.id"));
    expect(stored).not.toContain("pa55word");
    expect(stored).not.toContain("tr1gger-value");
  });

  test("no log line or run record carries a secret, even when the callback fails", async () => {
    const log = memoryLogger();
    const failing = startSink(() => new Response("nope", { status: 500 }));
    try {
      const e = await env({ log });
      const { Authorization: _, ...others } = headers; // the URL's credentials become the Authorization header
      const put = await e.call("PUT", "/api/v1/namespaces/n/jobs/f", { dueTime: "1s", target: { http: { url: `${failing.url.replace("http://", "http://user:hunter2@")}/f`, headers: others, secretHeaders: ["X-Signing"] } }, retry: { times: 1, interval: "1s" } });
      expect(put.status).toBe(201);
      await waitUntil(async () => (await e.call("GET", "/api/v1/namespaces/n/jobs/f/runs")).body.items.filter((r: { status: string }) => r.status === "failed").length === 2, "two failed attempts");
      const runs = await read(e.deps.store, "SELECT * FROM runs");
      noSecretIn(runs);
      noSecretIn(log.lines);
      expect(JSON.stringify([runs, log.lines])).not.toContain("hunter2");
    } finally {
      failing.stop();
    }
  });

  test("a Juice callbackUrl's password is shown as <secret> and used for the callback", async () => {
    const e = await env({ config: { executors: withProcesses(), scheduler: { pollInterval: 100 }, secrets: withKeys(KEY_A) } });
    const url = `${sink.url.replace("http://", "http://juice:cb-pa55@")}/juice-cb`;
    const r = await e.call("POST", "/v1/tasks", { taskName: "t", commands: "true", callbackUrl: url }, { "x-tenant-id": "n" });
    const taskId = r.body.data.taskId;
    const [req] = await fired(e, "/juice-cb");
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from("juice:cb-pa55").toString("base64")}`);
    const task = (await e.call("GET", `/v1/tasks?taskIds=${taskId}`, undefined, { "x-tenant-id": "n" })).body.data[0];
    expect(task.callbackUrl).toBe(`${sink.url.replace("http://", "http://juice:%3Csecret%3E@")}/juice-cb`);
    expect(JSON.stringify(await read(e.deps.store, "SELECT * FROM jobs"))).not.toContain("cb-pa55");
  });
});

describe("at rest", () => {
  test("with [secrets] key, neither the database file nor its WAL holds a secret value; without, start-up keeps them as given", async () => {
    const sealed = await env({ config: { secrets: withKeys(KEY_A) } });
    await sealed.call("PUT", "/api/v1/namespaces/n/jobs/k", { schedule: "@every 1h", target: { http: { url: `${sink.url}/k`, headers, secretHeaders: ["X-Signing"] } } });
    const file = join(sealed.dir, "tock.db");
    const bytes = Buffer.concat([readFileSync(file), readFileSync(`${file}-wal`)]);
    for (const v of VALUES) expect(bytes.includes(Buffer.from(v))).toBe(false);
    expect(String((await read(sealed.deps.store, "SELECT secrets FROM jobs"))[0].secrets)).toStartWith("aes256gcm:");

    const plain = await env();
    await plain.call("PUT", "/api/v1/namespaces/n/jobs/k", { schedule: "@every 1h", target: { http: { url: `${sink.url}/k`, headers } } });
    expect(String((await read(plain.deps.store, "SELECT secrets FROM jobs"))[0].secrets)).toStartWith("plain:");
  });

  test("sealed values are plain AES-256-GCM (IV, ciphertext, tag): WebCrypto opens them, and they open what WebCrypto seals", async () => {
    const box = await SecretBox.create([KEY_A]);
    const sealed = box.seal({ "headers.authorization": TOKEN });
    const [, id, data] = sealed.split(":");
    const bytes = Buffer.from(data, "base64");
    const key = await crypto.subtle.importKey("raw", Buffer.from(KEY_A, "base64"), "AES-GCM", false, ["encrypt", "decrypt"]);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12) }, key, bytes.subarray(12));
    expect(JSON.parse(new TextDecoder().decode(plain))).toEqual({ "headers.authorization": TOKEN });
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const theirs = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode('{"env.X":"y"}')));
    expect(box.open(`aes256gcm:${id}:${Buffer.concat([iv, theirs]).toString("base64")}`)).toEqual({ "env.X": "y" });
    // A changed byte is refused, not opened to garbage.
    bytes[20] ^= 1;
    expect(() => box.open(`aes256gcm:${id}:${bytes.toString("base64")}`)).toThrow();
    expect(box.seal({ a: "b" })).not.toBe(box.seal({ a: "b" })); // a fresh IV each time
  });

  test("rotation: values sealed with the previous key still open; a node without that key fails the run and says why", async () => {
    const dir = tempDir();
    afterAll(dir.cleanup);
    const a = await env({ dir: dir.dir, config: { secrets: withKeys(KEY_A) } });
    await a.call("PUT", "/api/v1/namespaces/n/jobs/rot", { target: { http: { url: `${sink.url}/rot`, headers: { Authorization: TOKEN } } } });
    await a.close();

    const rotated = await env({ dir: a.dir, config: { secrets: withKeys(KEY_B, KEY_A) } });
    // Still sealed under key A (its id: the first 4 bytes of its SHA-256), yet opened with A as previous_key.
    const idA = createHash("sha256").update(Buffer.from(KEY_A, "base64")).digest("hex").slice(0, 8);
    const [row] = await read(rotated.deps.store, "SELECT secrets FROM jobs");
    expect(String(row.secrets)).toStartWith(`aes256gcm:${idA}:`);
    await rotated.call("POST", "/api/v1/namespaces/n/jobs/rot/trigger");
    expect((await fired(rotated, "/rot"))[0].headers.authorization).toBe(TOKEN);
    await rotated.close();

    const without = await env({ dir: a.dir, config: { secrets: withKeys(KEY_B) } });
    const t = await without.call("POST", "/api/v1/namespaces/n/jobs/rot/trigger");
    await waitUntil(async () => (await without.call("GET", `/api/v1/runs/${t.body.id}`)).body.status === "failed", "the run fails");
    expect((await without.call("GET", `/api/v1/runs/${t.body.id}`)).body.error).toContain("sealed with a key this node does not have");
  });
});
