// Compressed answers: tock asks for none, and decodes what comes anyway within max_response_bytes, so a
// 211-byte brotli answer that decodes to 256 MiB costs 64 KiB, not 256 MiB.
import { afterAll, expect, test } from "bun:test";
import { brotliCompressSync, createGzip, deflateSync, gzipSync } from "node:zlib";
import { parseConfig } from "../../src/config.ts";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { createHttpExecutor } from "../../src/executors/http.ts";
import { Egress, egressPolicy } from "../../src/net/egress.ts";
import { systemResolver } from "../../src/net/resolve.ts";
import { json, read } from "../../src/store/sql.ts";
import { startSink, testEnv } from "../helpers.ts";

const MiB = 1024 * 1024;
// brotliCompressSync(Buffer.alloc(256 MiB), quality 11, lgwin 24): 211 bytes.
const BROTLI_BOMB = Buffer.from(
  "z///f/gnAOKxQCD3/p/////wTwDEYQGA7v0/////4Z8AiMMiAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/n//8//BMAcVgAoHv/z///f/gnAOKwAED3/p/////wTwDEYQGA7v0/////4Z8AiMMCAN37f/7//8M/ARCHBQC69//8//+HfwIgDgsAdO//+f//D/8EQBwWAOje//P//x/+CYA4LADQvf/P//9//BMAcVgAoHv/Dw==",
  "base64",
);

/** gzip of `n` zero bytes, made by streaming (never holding them). */
async function gzipZeros(n: number): Promise<Buffer> {
  const z = createGzip({ level: 9 });
  const out: Buffer[] = [];
  z.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((r) => z.on("end", r));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < n / MiB; i++) if (!z.write(zeros)) await new Promise((r) => z.once("drain", r));
  z.end();
  await done;
  return Buffer.concat(out);
}
const GZIP_BOMB = await gzipZeros(128 * MiB);

const encoded = (body: Uint8Array, encoding: string) => new Response(body as Uint8Array<ArrayBuffer>, { headers: { "content-encoding": encoding, "content-type": "text/plain" } });
const sink = startSink((req) => {
  switch (req.path) {
    case "/br-bomb":
      return encoded(BROTLI_BOMB, "br");
    case "/gzip-bomb":
      return encoded(GZIP_BOMB, "gzip");
    case "/gzip":
      return encoded(gzipSync("hello gzip"), "gzip");
    case "/deflate":
      return encoded(deflateSync("hello deflate"), "deflate");
    case "/chain":
      // Applied in the order listed: gzip, then brotli.
      return encoded(brotliCompressSync(gzipSync("hello chain")), "gzip, br");
    case "/zstd":
      return encoded(new TextEncoder().encode("kept as sent"), "zstd");
    case "/corrupt":
      return encoded(new TextEncoder().encode("this is not gzip"), "gzip");
    case "/empty":
      return encoded(new Uint8Array(0), "gzip");
    case "/negotiate":
      // Compresses only when asked to.
      return (req.headers["accept-encoding"] ?? "").includes("gzip") ? encoded(gzipSync("negotiated"), "gzip") : new Response("plain");
    default:
      return new Response(`accept-encoding=${req.headers["accept-encoding"]}`);
  }
});
afterAll(() => sink.stop());

const egress = new Egress(egressPolicy(parseConfig(null, {}).egress), systemResolver);
const exec = createHttpExecutor({ userAgent: "tock-test", maxResponseBytes: 65_536, egress });
const call = (path: string, headers?: Record<string, string>) =>
  exec.execute({ runId: 1, key: "1", namespace: "ns", jobName: "j", scheduledAt: 0, attempt: 1, target: { url: `${sink.url}${path}`, method: "GET", headers }, payload: null }, new AbortController().signal);

test("asks for an uncompressed answer unless the job asks otherwise", async () => {
  expect((await call("/ae")).result?.body).toBe("accept-encoding=identity");
  expect((await call("/ae", { "Accept-Encoding": "gzip" })).result?.body).toBe("accept-encoding=gzip");
  expect((await call("/negotiate")).result?.body).toBe("plain");
  expect((await call("/negotiate", { "accept-encoding": "gzip" })).result).toEqual({ status: 200, body: "negotiated" });
});

test("a compressed answer sent anyway is decoded: gzip, deflate, and several codings in turn", async () => {
  expect((await call("/gzip")).result).toEqual({ status: 200, body: "hello gzip" });
  expect((await call("/deflate")).result).toEqual({ status: 200, body: "hello deflate" });
  expect((await call("/chain")).result).toEqual({ status: 200, body: "hello chain" });
  expect((await call("/empty")).result).toEqual({ status: 200, body: "" });
  // A coding tock does not know is kept as received (within the limit).
  expect((await call("/zstd")).result).toEqual({ status: 200, body: "kept as sent" });
  const corrupt = await call("/corrupt");
  expect(corrupt.status).toBe("failed");
  expect(corrupt.error).toStartWith("reading the response failed: ");
});

test("decompression bombs: at most max_response_bytes is decoded, and memory stays flat", async () => {
  Bun.gc(true);
  const before = process.memoryUsage.rss();
  for (const path of ["/br-bomb", "/gzip-bomb", "/br-bomb"]) {
    const o = await call(path);
    expect(o.status).toBe("succeeded");
    expect(o.result?.truncated).toBe(true);
    expect((o.result?.body as string).length).toBe(65_536);
    expect((o.result?.body as string).replaceAll("\0", "")).toBe("");
  }
  // Decoding either whole would hold 128-256 MiB at once.
  expect(process.memoryUsage.rss() - before).toBeLessThan(64 * MiB);
});

test("the brotli bomb's run is stored with at most max_response_bytes of its body", async () => {
  const env = await testEnv({ start: true });
  try {
    await putJob(env.deps, "ns", "bomb", { target: { http: { url: `${sink.url}/br-bomb`, method: "GET" } } });
    await triggerJob(env.deps, "ns", "bomb");
    await env.deps.scheduler.tick();
    await env.deps.scheduler.idle();
    const [run] = await read(env.deps.store, "SELECT status, result FROM runs");
    expect(run.status).toBe("succeeded");
    const result = json<{ status: number; body: string; truncated: boolean }>(run.result)!;
    expect(result.truncated).toBe(true);
    expect(result.body.length).toBe(env.deps.config.executors.http.maxResponseBytes);
  } finally {
    await env.close();
  }
});
