// HTTP callbacks: one request per attempt, redirects not followed (a 3xx fails the attempt), 2xx is
// success. The run id travels as `webhook-id` (Standard Webhooks) so receivers can deduplicate, signed in
// `webhook-signature` when [callbacks] has a secret for the job's namespace (signing.ts). The host is
// resolved and judged by the egress policy at each attempt, and the request goes to an address that was
// judged (runtime/fetch.ts), never to the name again. The answer is read within max_response_bytes, decoded
// if it is compressed (body.ts).
import type { Egress, Pinned } from "../net/egress.ts";
import { connectionRefused, createPinnedFetch, type PinnedFetch } from "../runtime/fetch.ts";
import { readBody } from "./body.ts";
import type { Signer } from "./signing.ts";
import { errorText, type ExecRequest, type Executor, type Outcome, type HttpTarget } from "./types.ts";

export interface HttpExecutorOptions {
  userAgent: string;
  maxResponseBytes: number;
  /** Where requests may go ([egress]), and how names resolve. */
  egress: Egress;
  /** Signs requests ([callbacks]); none: unsigned. */
  signer?: Signer;
  /** How a request reaches its address; the runtime's (runtime/fetch.ts) unless given. */
  fetch?: PinnedFetch;
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
  /** The URL's host as it writes it (an IPv6 address in brackets), and its scheme. */
  hostname: string;
  protocol: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

/** Waits for `p` unless the attempt is aborted first (a slow resolver must not outlive a kill or timeout). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function createHttpExecutor(opts: HttpExecutorOptions): Executor {
  const send = opts.fetch ?? createPinnedFetch();
  // What every request of one claimed job shares, built on its first run rather than on each.
  const prepared = new WeakMap<object, Prepared>();
  const prepare = (target: HttpTarget, payload: unknown): Prepared => {
    let p = prepared.get(target);
    if (p && p.payload === payload) return p;
    const method = target.method ?? "POST";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(target.headers ?? {})) headers[k.toLowerCase()] = v;
    headers["user-agent"] ??= opts.userAgent;
    // Uncompressed answers unless the job asks otherwise; a compressed one is decoded within the limit anyway.
    headers["accept-encoding"] ??= "identity";
    let body: string | undefined;
    if (method !== "GET" && method !== "HEAD") {
      if (target.body !== undefined) body = target.body;
      else if (payload !== null && payload !== undefined) {
        body = JSON.stringify(payload);
        headers["content-type"] ??= "application/json";
      }
    }
    const url = new URL(target.url);
    p = { payload, hostname: url.hostname, protocol: url.protocol, method, headers, body };
    prepared.set(target, p);
    return p;
  };

  return {
    async execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as HttpTarget;
      const { hostname, protocol, method, body, headers: base } = prepare(target, req.payload);
      // The job schema allows nothing else; a stored target is not trusted to have passed it.
      if (protocol !== "http:" && protocol !== "https:") return { status: "failed", error: `only http:// and https:// URLs are called, not ${protocol}//` };
      // An address literal is judged at once; a name waits for its resolution.
      let pinned: Pinned | Promise<Pinned> | null = opts.egress.pin(req.namespace, hostname);
      if (pinned instanceof Promise) {
        try {
          pinned = await untilAborted(pinned, signal);
        } catch (e) {
          return { status: "failed", error: `request failed: ${errorText(e)}` };
        }
        if (!pinned) return { status: "failed", error: "aborted" };
      }
      if (pinned.error !== undefined) return { status: "failed", error: pinned.error };
      // webhook-timestamp is when this attempt is sent (Standard Webhooks), not the slot's time.
      const sentAt = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = { ...base, "webhook-id": req.key, "webhook-timestamp": String(sentAt) };
      // The signed payload is the exact body sent ("" for none).
      const signature = opts.signer?.sign(req.namespace, req.key, sentAt, body ?? "");
      if (signature) headers["webhook-signature"] = signature;
      let res: Response | undefined;
      // The addresses judged, in order; the next is tried only when one refused the connection (nothing sent).
      for (let i = 0; !res; i++) {
        try {
          res = await send({ url: target.url, hostname, address: pinned.addresses[i], method, headers, body, signal });
        } catch (e) {
          if (!signal.aborted && i + 1 < pinned.addresses.length && connectionRefused(e)) continue;
          return { status: "failed", error: signal.aborted ? "aborted" : `request failed: ${errorText(e)}` };
        }
      }
      let text = "";
      let truncated = false;
      try {
        ({ text, truncated } = await readBody(res, opts.maxResponseBytes));
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
