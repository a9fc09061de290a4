// The HTTP side of the client commands: which server and key, requests, the server's errors mapped to one
// line and an exit code, and list pages followed to the end. Only fetch: no config file, no database.
import { parseDuration } from "../schedule/duration.ts";
import { CliError, EXIT, usageError } from "./args.ts";

export const DEFAULT_SERVER = "http://127.0.0.1:8080";

export interface ClientOptions {
  server?: string;
  token?: string;
  env: Record<string, string | undefined>;
  /** Aborts every request (Ctrl-C). */
  signal?: AbortSignal;
  /** How long the server has to answer a request (its status and headers), as given: "30s". */
  timeout?: string;
}

/** How long the server has to answer a request by default. */
export const DEFAULT_TIMEOUT = "30s";
const MAX_TIMEOUT_MS = 24 * 86_400_000;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Query = Record<string, string | number | undefined>;

/** How many times a request is sent when the server says to come back later (429, 503). */
const RETRIES = 5;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new CliError("interrupted", EXIT.interrupted));
    });
  });

export class Client {
  readonly base: string;
  private readonly token: string | undefined;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;

  constructor(opts: ClientOptions) {
    const timeout = parseDuration(opts.timeout ?? DEFAULT_TIMEOUT);
    // (Timers hold at most 2^31-1 ms; a longer one would fire at once.)
    if (timeout === null || timeout <= 0 || timeout > MAX_TIMEOUT_MS) throw usageError(`--timeout must be a duration from 1ms to 24d, such as 30s or 2m (got ${JSON.stringify(opts.timeout)})`);
    this.timeoutMs = timeout;
    const raw = opts.server ?? (opts.env.TOCK_SERVER || DEFAULT_SERVER);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw usageError(`the server must be an http:// or https:// URL (got ${JSON.stringify(raw)} from ${opts.server !== undefined ? "--server" : "TOCK_SERVER"})`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`the server must be an http:// or https:// URL (got ${JSON.stringify(raw)})`);
    this.base = url.href.replace(/\/+$/, "");
    this.token = opts.token ?? (opts.env.TOCK_TOKEN || undefined);
    // A key is printable ASCII: anything else (a pasted newline) could not even be sent as a header.
    if (this.token !== undefined && !/^[\x21-\x7e]+$/.test(this.token)) {
      throw usageError(`the API key from ${opts.token !== undefined ? "--token" : "TOCK_TOKEN"} has characters no key has (spaces, line breaks or others): give the key alone`);
    }
    this.signal = opts.signal;
  }

  url(path: string, query: Query = {}): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") q.set(k, String(v));
    const s = q.toString();
    return `${this.base}${path}${s ? `?${s}` : ""}`;
  }

  /**
   * Sends a request; answers the response when its status is 2xx (or one of `accept`), else throws a
   * CliError. The server has --timeout to answer it whole; with `stream` only to begin (its status and
   * headers): the body then streams as long as it takes (a followed run's output).
   */
  async send(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string>; accept?: number[]; stream?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const url = this.url(path, opts.query);
    for (let attempt = 1; ; attempt++) {
      const late = new AbortController();
      const timer = setTimeout(() => late.abort(), this.timeoutMs);
      const failed = (e: unknown, what: string, hint = "") => {
        if (e instanceof CliError) return e;
        if (this.signal?.aborted) return new CliError("interrupted", EXIT.interrupted);
        if (late.signal.aborted) return new CliError(`the tock server at ${this.base} did not answer ${method} ${path} within ${this.timeoutMs / 1000}s (--timeout)`, EXIT.unreachable);
        return new CliError(`${what}: ${reason(e)}${hint}`, EXIT.unreachable);
      };
      let res: Response;
      try {
        const signal = this.signal ? AbortSignal.any([this.signal, late.signal]) : late.signal;
        res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal });
      } catch (e) {
        clearTimeout(timer);
        throw failed(e, `cannot reach the tock server at ${this.base}`, " (set --server or TOCK_SERVER)");
      }
      try {
        if (res.ok || opts.accept?.includes(res.status)) {
          if (opts.stream) return res;
          // The whole answer within the timeout: a server that sends its headers and then stalls ends here too.
          const text = await res.text();
          return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
        }
        // Over the key's rate (nothing was done), or busy for a request that may safely be sent again: wait as told.
        const again = res.status === 429 || (res.status === 503 && method !== "POST");
        if (!again || attempt >= RETRIES) throw await errorOf(res, method, path);
        await res.body?.cancel();
      } catch (e) {
        throw failed(e, `the connection to ${this.base} broke`);
      } finally {
        clearTimeout(timer);
      }
      await sleep(Math.min(10, Math.max(0.2, Number(res.headers.get("retry-after")) || 1)) * 1000, this.signal);
    }
  }

  /** A request whose answer is JSON (null for an empty body). */
  async json<T = unknown>(method: string, path: string, opts: { query?: Query; body?: unknown; accept?: number[] } = {}): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, opts);
    const text = await res.text(); // (read whole within the timeout by send)
    if (!text) return { status: res.status, body: null as T };
    try {
      return { status: res.status, body: JSON.parse(text) as T };
    } catch {
      throw new CliError(`the server at ${this.base} answered ${method} ${path} with something that is not JSON (is it a tock server?)`, EXIT.failed);
    }
  }

  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.json<T>("GET", path, { query }).then((r) => r.body);
  }

  /** Every item of a paged list, following nextCursor to the last page. */
  async *pages<T>(path: string, query: Query = {}, max = Number.POSITIVE_INFINITY): AsyncGenerator<T> {
    let cursor: string | undefined;
    let seen = 0;
    do {
      const limit = Math.min(1000, max - seen);
      const page = await this.get<Page<T>>(path, { ...query, limit, cursor });
      for (const item of page.items) {
        if (seen++ >= max) return;
        yield item;
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor && seen < max);
  }

  async all<T>(path: string, query: Query = {}, max?: number): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this.pages<T>(path, query, max)) out.push(item);
    return out;
  }
}

/** The cause of a failed fetch in words ("connection refused"), without a stack. */
function reason(e: unknown): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ConnectionRefused: "connection refused",
    ENOTFOUND: "no such host",
    EAI_AGAIN: "the host name did not resolve",
    ETIMEDOUT: "timed out",
    ECONNRESET: "the connection was reset",
    ConnectionClosed: "the connection was closed",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate is not trusted",
    DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
  };
  if (code && known[code]) return known[code];
  const text = (err.cause?.message ?? err.message ?? String(e)).split("\n")[0];
  // Deno says it in longer words.
  if (/connection refused/i.test(text)) return "connection refused";
  if (/dns error|name or service not known|failed to lookup address/i.test(text)) return "no such host";
  return text;
}

/** A non-2xx answer as one line: the server's own message, with an exit code and a hint where one helps. */
async function errorOf(res: Response, method: string, path: string): Promise<CliError> {
  const text = await res.text().catch(() => "");
  let message: string | undefined;
  let field: string | undefined;
  let items: CliError["items"];
  try {
    const body = JSON.parse(text) as { error?: { message?: string; field?: string; items?: CliError["items"] } | string; message?: string };
    if (typeof body.error === "object" && body.error) ({ message, field, items } = body.error);
    else if (typeof body.error === "string") message = body.error;
    else if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON: a proxy's page, say
  }
  const oneLine = (message ?? `${method} ${path} answered ${res.status} ${res.statusText}`.trim()).replace(/\s*\n\s*/g, " ");
  const withField = field && !oneLine.includes(field) ? `${oneLine} (${field})` : oneLine;
  switch (res.status) {
    case 401:
      return new CliError(`${withField}: give an API key with --token or TOCK_TOKEN`, EXIT.unauthorized, 401);
    case 403:
      return new CliError(`${withField} (the API key from --token or TOCK_TOKEN does not allow it)`, EXIT.unauthorized, 403);
    case 404:
      return new CliError(withField, EXIT.notFound, 404);
    default:
      return new CliError(withField, EXIT.failed, res.status, Array.isArray(items) ? items : undefined);
  }
}
