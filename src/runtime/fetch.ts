// The one place Bun and Deno differ for outgoing HTTP: sending a request for a URL over a connection to
// an address chosen (and checked) beforehand, so the URL's host is never resolved again. The request
// keeps its own Host header, and for https its name (SNI, certificate verification).
//
// Bun: fetch the URL with the address in place of the host, the original Host header, and for https
// `tls.serverName` (Bun verifies the certificate against it). `decompress: false`: the body arrives as
// sent, for the caller to decode within its limits.
// Deno: a URL whose host already is the address goes through fetch (Deno does not decode a body when the
// request sets accept-encoding itself). Otherwise node:http/node:https with a `lookup` that answers the
// address: Deno.createHttpClient's tcp proxy transport would pin the address too, but it sends an
// https:// request unencrypted to it (measured on Deno 2.9), so it is not used.
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { hostOfIp, type Ip, ipText, parseIp } from "../net/address.ts";
import { runtimeName } from "./serve.ts";

export interface PinnedRequest {
  /** The target's URL; its host names the server (Host, SNI), `address` is where it is. */
  url: string;
  /** The URL's host as the URL writes it (new URL(url).hostname). */
  hostname: string;
  address: Ip;
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** Sends a request (redirects not followed, the body not decoded); rejects when no response came. */
export type PinnedFetch = (req: PinnedRequest) => Promise<Response>;

export interface PinnedFetchOptions {
  /** Certificates trusted instead of the system's (PEM): a private CA. */
  ca?: string;
}

/** Whether a request failed because nothing listens at the address (nothing was sent: the next one may be tried). */
export function connectionRefused(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return true;
  const cause = (e as { cause?: unknown } | null)?.cause;
  return /connection refused/i.test(`${(e as Error | null)?.message ?? e} ${cause ?? ""}`);
}

export function createPinnedFetch(opts: PinnedFetchOptions = {}): PinnedFetch {
  return runtimeName === "bun" ? bunFetch(opts) : denoFetch(opts);
}

/** Whether the URL's own host is the address (no Host or SNI to keep apart from it). */
const direct = (req: PinnedRequest) => req.hostname === hostOfIp(req.address);

function bunFetch(opts: PinnedFetchOptions): PinnedFetch {
  return (req) => {
    let target = req.url;
    let headers = req.headers;
    let tls: { serverName?: string; ca?: string } | undefined = opts.ca ? { ca: opts.ca } : undefined;
    if (!direct(req)) {
      const url = new URL(req.url);
      const pinned = new URL(url);
      pinned.hostname = hostOfIp(req.address);
      target = pinned.href;
      headers = { ...headers, host: url.host };
      // An address literal is verified against the certificate's addresses, not sent as SNI.
      if (url.protocol === "https:" && parseIp(url.hostname) === null) tls = { ...tls, serverName: url.hostname };
    }
    return fetch(target, { method: req.method, headers, body: req.body, redirect: "manual", signal: req.signal, decompress: false, tls });
  };
}

// Statuses whose response has no body (a Response refuses one for them).
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function denoFetch(opts: PinnedFetchOptions): PinnedFetch {
  return (req) => {
    if (direct(req) && !opts.ca) {
      return fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: "manual", signal: req.signal });
    }
    const url = new URL(req.url);
    const { address } = req;
    const ip = ipText(address);
    const family = address.kind() === "ipv6" ? 6 : 4;
    const name = url.hostname.replace(/^\[|\]$/g, "");
    const literal = parseIp(name) !== null;
    const options: https.RequestOptions = {
      protocol: url.protocol,
      // An address literal is replaced by the address checked; a name is answered by `lookup`, so the
      // name still goes into SNI and certificate verification.
      hostname: literal ? ip : name,
      port: Number(url.port) || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: { ...req.headers, host: url.host },
      signal: req.signal,
      // A connection of its own: a pooled one is keyed by the name, not by the address checked.
      agent: false,
      ca: opts.ca,
      servername: literal ? undefined : name,
      lookup: ((_host: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) => (o?.all ? cb(null, [{ address: ip, family }]) : cb(null, ip, family))) as LookupFunction,
    };
    return new Promise<Response>((resolve, reject) => {
      const request = (url.protocol === "https:" ? https : http).request(options, (m) => {
        const headers = new Headers();
        for (let i = 0; i + 1 < m.rawHeaders.length; i += 2) {
          try {
            headers.append(m.rawHeaders[i], m.rawHeaders[i + 1]);
          } catch {
            // A header a Response cannot hold is dropped.
          }
        }
        const status = m.statusCode ?? 502;
        const body = NULL_BODY.has(status) || req.method === "HEAD" ? null : (Readable.toWeb(m) as unknown as ReadableStream<Uint8Array>);
        if (!body) m.resume();
        resolve(new Response(body, { status, statusText: m.statusMessage, headers }));
      });
      request.on("error", reject);
      request.end(req.body);
    });
  };
}
