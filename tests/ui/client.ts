// A browser's part in the dashboard's server-side tests: it keeps the cookies it is given, sends them back,
// and posts forms with the session's token and this origin, as a page of the dashboard would.
import { csrfToken } from "../../src/ui/session.ts";

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
  /** The raw Set-Cookie lines of this answer. */
  setCookies: string[];
}

export class UiClient {
  readonly cookies = new Map<string, string>();

  /** `send`: app.request, or fetch against a listening server; requests go to `host`. */
  constructor(
    private readonly send: (path: string, init: RequestInit) => Promise<Response>,
    readonly host = "localhost",
  ) {}

  get origin(): string {
    return `http://${this.host}`;
  }

  /** The token the session's forms carry (empty before the first page set a session). */
  get token(): string {
    const s = this.cookies.get("tock_session");
    return s ? csrfToken(s) : "";
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.#request(path, { method: "GET", headers });
  }

  /**
   * Posts a form; by default with this session's token and this origin. `token: null` or `origin: null`
   * leave them out; a string sends that instead.
   */
  async post(path: string, fields: Record<string, string> = {}, opts: { token?: string | null; origin?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
    const form = new URLSearchParams(fields);
    const token = opts.token === undefined ? this.token : opts.token;
    if (token !== null) form.set("_csrf", token);
    const origin = opts.origin === undefined ? this.origin : opts.origin;
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", ...opts.headers };
    if (origin !== null) headers.origin = origin;
    return this.#request(path, { method: "POST", headers, body: form.toString() });
  }

  async #request(path: string, init: RequestInit): Promise<Answer> {
    const headers = new Headers(init.headers);
    headers.set("host", this.host);
    if (this.cookies.size > 0) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await this.send(path, { ...init, headers, redirect: "manual" });
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, text: await res.text(), headers: res.headers, setCookies };
  }
}

/** The attributes of the Set-Cookie line for `name`, lower-cased, or null when none sets it. */
export function cookieAttributes(a: Answer, name: string): string[] | null {
  const line = a.setCookies.find((l) => l.startsWith(`${name}=`));
  return line ? line.split(";").slice(1).map((s) => s.trim().toLowerCase()) : null;
}
