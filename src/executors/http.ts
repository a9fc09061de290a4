// HTTP callbacks: one request per attempt, redirects not followed (a 3xx fails the attempt), 2xx is
// success. The run id travels as `webhook-id` (Standard Webhooks) so receivers can deduplicate.
import type { HttpTarget } from "../domain/schemas.ts";
import { errorText, type ExecRequest, type Executor, type Outcome } from "./types.ts";

export interface HttpExecutorOptions {
  userAgent: string;
  maxResponseBytes: number;
}

const decoder = new TextDecoder();

/** Reads at most `max` bytes of a body and drops the rest. */
async function readCapped(res: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: "", truncated: false };
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  // The common case, a small body of known length, is read whole.
  if (length <= max) return { text: await res.text(), truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { text: decoder.decode(all), truncated };
}

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface Prepared {
  payload: unknown;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export function createHttpExecutor(opts: HttpExecutorOptions): Executor {
  // What every request of one claimed job shares, built on its first run rather than on each.
  const prepared = new WeakMap<object, Prepared>();
  const prepare = (target: HttpTarget, payload: unknown): Prepared => {
    let p = prepared.get(target);
    if (p && p.payload === payload) return p;
    const method = target.method ?? "POST";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(target.headers ?? {})) headers[k.toLowerCase()] = v;
    headers["user-agent"] ??= opts.userAgent;
    let body: string | undefined;
    if (method !== "GET" && method !== "HEAD") {
      if (target.body !== undefined) body = target.body;
      else if (payload !== null && payload !== undefined) {
        body = JSON.stringify(payload);
        headers["content-type"] ??= "application/json";
      }
    }
    p = { payload, method, headers, body };
    prepared.set(target, p);
    return p;
  };

  return {
    async execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as HttpTarget;
      const { method, body, headers: base } = prepare(target, req.payload);
      // webhook-timestamp is when this attempt is sent (Standard Webhooks), not the slot's time.
      const headers = { ...base, "webhook-id": req.key, "webhook-timestamp": String(Math.floor(Date.now() / 1000)) };
      let res: Response;
      try {
        res = await fetch(target.url, { method, headers, body, redirect: "manual", signal });
      } catch (e) {
        return { status: "failed", error: signal.aborted ? "aborted" : `request failed: ${errorText(e)}` };
      }
      let text = "";
      let truncated = false;
      try {
        ({ text, truncated } = await readCapped(res, opts.maxResponseBytes));
      } catch (e) {
        if (signal.aborted) return { status: "failed", error: "aborted", result: { status: res.status } };
        return { status: "failed", error: `reading the response failed: ${errorText(e)}`, result: { status: res.status } };
      }
      const result: Record<string, unknown> = { status: res.status, body: text };
      if (truncated) result.truncated = true;
      if (res.status >= 200 && res.status < 300) return { status: "succeeded", result };
      const outcome: Outcome = {
        status: "failed",
        result,
        error: res.status >= 300 && res.status < 400 ? `redirect ${res.status} not followed` : `HTTP ${res.status}`,
      };
      if (res.status === 429 || res.status === 503) outcome.retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
      return outcome;
    },
  };
}
