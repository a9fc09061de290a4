// The HTTP executor against a real server: what is sent, and what is kept of the answer.
import { afterAll, expect, test } from "bun:test";
import { createHttpExecutor, parseRetryAfter } from "../../src/executors/http.ts";
import { parseConfig } from "../../src/config.ts";
import { Egress, egressPolicy } from "../../src/net/egress.ts";
import { systemResolver } from "../../src/net/resolve.ts";
import { startSink } from "../helpers.ts";

const big = "x".repeat(100_000);
const sink = startSink((req) => {
  if (req.path === "/big") return new Response(big);
  if (req.path === "/chunked") {
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("y".repeat(10_000)));
        c.close();
      },
    });
    return new Response(stream);
  }
  return new Response("ok", { status: 201 });
});
afterAll(() => sink.stop());

const egress = new Egress(egressPolicy(parseConfig(null, {}).egress), systemResolver);
const exec = createHttpExecutor({ userAgent: "tock-test", maxResponseBytes: 65_536, egress });
const req = (url: string, target: Record<string, unknown> = {}, payload: unknown = null) => ({
  runId: 7,
  key: "7",
  namespace: "ns",
  jobName: "j",
  scheduledAt: Date.UTC(2026, 0, 1),
  attempt: 1,
  target: { url, ...target },
  payload,
});

test("keeps the status and the first 64 KiB of the body, with or without a Content-Length", async () => {
  for (const path of ["/big", "/chunked"]) {
    const o = await exec.execute(req(`${sink.url}${path}`), new AbortController().signal);
    expect(o.status).toBe("succeeded");
    expect(o.result?.status).toBe(200);
    expect((o.result?.body as string).length).toBe(65_536);
    expect(o.result?.truncated).toBe(true);
  }
});

test("sends method, headers, payload as JSON, webhook-id and webhook-timestamp", async () => {
  sink.requests.length = 0;
  const sentAt = Math.floor(Date.now() / 1000);
  const o = await exec.execute(req(`${sink.url}/hook`, { method: "PUT", headers: { "X-Key": "v" } }, { a: 1 }), new AbortController().signal);
  expect(o).toMatchObject({ status: "succeeded", result: { status: 201, body: "ok" } });
  const r = sink.requests[0];
  expect(r.method).toBe("PUT");
  expect(r.body).toBe('{"a":1}');
  expect(r.headers).toMatchObject({
    "x-key": "v",
    "content-type": "application/json",
    "user-agent": "tock-test",
    "webhook-id": "7",
  });
  // When the attempt was sent, not the slot (2026-01-01): receivers check it against their clock.
  expect(Number(r.headers["webhook-timestamp"]) - sentAt).toBeLessThanOrEqual(1);
  expect(Number(r.headers["webhook-timestamp"])).toBeGreaterThanOrEqual(sentAt);
  const raw = await exec.execute(req(`${sink.url}/hook`, { body: "raw", headers: { "content-type": "text/plain" } }, { ignored: true }), new AbortController().signal);
  expect(raw.status).toBe("succeeded");
  expect(sink.requests[1]).toMatchObject({ method: "POST", body: "raw" });
  expect(sink.requests[1].headers["content-type"]).toBe("text/plain");
});

test("Retry-After as seconds or an HTTP date", () => {
  expect(parseRetryAfter("7")).toBe(7000);
  expect(parseRetryAfter(new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(30_000);
  expect(parseRetryAfter("soon")).toBeUndefined();
  expect(parseRetryAfter(null)).toBeUndefined();
});
