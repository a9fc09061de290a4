// The dashboard over app.request: logging in with a key (cookie attributes, next page), forms refused
// without their token or from another origin, a reader that may only look, a namespace's key that finds
// nothing elsewhere, bad input answered 4xx as a page, the security headers and the embedded assets, the
// failed-runs page and the live log stream.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { lastResults } from "../../src/domain/fleet.ts";
import { createKey } from "../../src/domain/keys.ts";
import { type TestEnv, testEnv, waitUntil, withProcesses } from "../helpers.ts";
import { cookieAttributes, UiClient } from "./client.ts";

const A = "team-a";
const B = "team-b";
const http = { http: { url: "http://127.0.0.1:9/x" } };
const proc = (script: string) => ({ process: { command: ["/bin/sh", "-c", script] } });

let e: TestEnv;
const keys = { admin: "", writerA: "", readerA: "", writerB: "" };
const runs = { failedA: 0, failedB: 0, echo: 0 };
const admin = () => ({ authorization: `Bearer ${keys.admin}` });

async function finished(id: number): Promise<any> {
  let run: any;
  await waitUntil(async () => {
    run = (await e.call("GET", `/api/v1/runs/${id}`, undefined, admin())).body;
    return !["queued", "running"].includes(run.status);
  }, `run ${id} to end`);
  return run;
}

async function trigger(ns: string, name: string): Promise<number> {
  return (await e.call("POST", `/api/v1/namespaces/${ns}/jobs/${name}/trigger`, undefined, admin())).body.id;
}

const client = () => new UiClient((path, init) => Promise.resolve(e.app.request(path, init)));

/** A client logged in with `key`. */
async function as(key: string): Promise<UiClient> {
  const c = client();
  await c.get("/ui/login");
  expect((await c.post("/ui/login", { key })).status).toBe(303);
  return c;
}

beforeAll(async () => {
  e = await testEnv({ start: true, config: { auth: { mode: "keys" }, executors: withProcesses(), scheduler: { pollInterval: 200 } } });
  const make = async (body: Record<string, unknown>) => (await createKey(e.deps, body)).token;
  keys.admin = await make({ role: "admin", allNamespaces: true, name: "root" });
  keys.writerA = await make({ role: "writer", namespaces: [A], name: "writer-a" });
  keys.readerA = await make({ role: "reader", namespaces: [A], name: "reader-a" });
  keys.writerB = await make({ role: "writer", namespaces: [B] });
  await e.deps.keys.refresh();
  for (const [ns, name, target] of [
    [A, "ja", http],
    [B, "jb", http],
    [A, "boom", proc("echo about to fail; exit 3")],
    [B, "boom-b", proc("exit 4")],
    [A, "echo", proc("echo hello; echo to stderr >&2; echo bye")],
  ] as const) {
    const put = await e.call("PUT", `/api/v1/namespaces/${ns}/jobs/${name}`, { ...(name.startsWith("j") ? { schedule: "@every 1h" } : {}), target }, admin());
    expect(put.status).toBe(201);
  }
  runs.failedA = await trigger(A, "boom");
  runs.failedB = await trigger(B, "boom-b");
  runs.echo = await trigger(A, "echo");
  for (const id of Object.values(runs)) await finished(id);
}, 30_000);
afterAll(() => e.close());

const enabled = async (ns: string, name: string) => (await e.call("GET", `/api/v1/namespaces/${ns}/jobs/${name}`, undefined, admin())).body.enabled;

describe("logging in", () => {
  test("a page without a key is the login form (401) and shows no job", async () => {
    const r = await client().get("/ui");
    expect(r.status).toBe(401);
    expect(r.text).toContain('name="key"');
    expect(r.text).not.toContain("ja");
  });

  test("a wrong key is refused; a good one is kept in an HttpOnly, SameSite=Strict cookie on /ui, Secure over TLS", async () => {
    const c = client();
    expect((await c.get("/ui/login")).status).toBe(200);
    const wrong = await c.post("/ui/login", { key: "tock_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain("not valid");
    expect(c.cookies.has("tock_key")).toBe(false);
    const before = c.cookies.get("tock_session");
    const ok = await c.post("/ui/login", { key: keys.writerA });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/ui");
    const attrs = cookieAttributes(ok, "tock_key")!;
    expect(attrs).toEqual(expect.arrayContaining(["path=/ui", "httponly", "samesite=strict"]));
    expect(attrs).not.toContain("secure");
    expect(c.cookies.get("tock_session")).not.toBe(before); // a new session for the key
    const page = await c.get("/ui");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Logged in with key writer-a (writer).");
    expect(page.text).toContain("ja");

    const tls = client();
    await tls.get("/ui/login", { "x-forwarded-proto": "https" });
    const secure = await tls.post("/ui/login", { key: keys.readerA }, { headers: { "x-forwarded-proto": "https" }, origin: "https://localhost" });
    expect(cookieAttributes(secure, "tock_key")).toContain("secure");
  });

  test("after logging in the browser goes to the page it asked for, never off the dashboard", async () => {
    const c = client();
    await c.get("/ui/login");
    expect((await c.post("/ui/login", { key: keys.admin, next: "/ui/failed?namespace=team-a" })).headers.get("location")).toBe("/ui/failed?namespace=team-a");
    for (const next of ["https://evil.example/", "//evil.example/ui", "/api/v1/keys", "/ui\\@evil"]) {
      expect((await c.post("/ui/login", { key: keys.admin, next })).headers.get("location")).toBe("/ui");
    }
  });

  test("logging out forgets the key; a revoked key's cookie asks for a key again", async () => {
    const c = await as(keys.readerA);
    const out = await c.post("/ui/logout");
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/ui/login");
    expect(c.cookies.has("tock_key")).toBe(false);
    expect((await c.get("/ui")).status).toBe(401);

    const token = (await e.call("POST", "/api/v1/keys", { role: "reader", allNamespaces: true }, admin())).body;
    const d = await as(token.key);
    expect((await d.get("/ui")).status).toBe(200);
    expect((await e.call("DELETE", `/api/v1/keys/${token.id}`, undefined, admin())).status).toBe(204);
    const again = await d.get("/ui");
    expect(again.status).toBe(401);
    expect(again.text).toContain("revoked");
    expect(d.cookies.has("tock_key")).toBe(false);
  });
});

describe("forms", () => {
  test("refused without the session's token or from another origin, changing nothing", async () => {
    const c = await as(keys.writerA);
    const path = `/ui/jobs/${A}/ja/pause`;
    for (const opts of [{ token: null }, { token: "forged" }, { origin: "http://evil.example" }, { origin: null }, { origin: null, headers: { "sec-fetch-site": "cross-site" } }]) {
      const r = await c.post(path, {}, opts);
      expect({ opts, status: r.status }).toEqual({ opts, status: 403 });
    }
    // Another browser's token does not do either.
    const other = await as(keys.writerA);
    expect((await c.post(path, {}, { token: other.token })).status).toBe(403);
    expect(await enabled(A, "ja")).toBe(true);
  });

  test("pause and resume post, redirect to the job, and say what they did once", async () => {
    const c = await as(keys.writerA);
    const paused = await c.post(`/ui/jobs/${A}/ja/pause`);
    expect(paused.status).toBe(303);
    expect(paused.headers.get("location")).toBe(`/ui/jobs/${A}/ja`);
    expect(await enabled(A, "ja")).toBe(false);
    const page = await c.get(`/ui/jobs/${A}/ja`);
    expect(page.text).toContain(`Paused ${A}/ja`);
    expect(page.text).toContain("Resume");
    expect((await c.get(`/ui/jobs/${A}/ja`)).text).not.toContain(`Paused ${A}/ja`);
    expect((await c.post(`/ui/jobs/${A}/ja/resume`)).status).toBe(303);
    expect(await enabled(A, "ja")).toBe(true);
  });

  test("trigger goes to the new run's page", async () => {
    const c = await as(keys.writerA);
    const r = await c.post(`/ui/jobs/${A}/echo/trigger`);
    expect(r.status).toBe(303);
    const id = Number(/^\/ui\/runs\/(\d+)$/.exec(r.headers.get("location") ?? "")?.[1]);
    expect(id).toBeGreaterThan(runs.echo);
    await finished(id);
    const page = await c.get(`/ui/runs/${id}`);
    expect(page.text).toContain("is queued.");
    expect(page.text).toContain("hello");
  });

  test("a reader sees but may not change anything (403, nothing changed)", async () => {
    const c = await as(keys.readerA);
    const page = await c.get(`/ui/jobs/${A}/ja`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("This key may read only");
    expect(page.text).not.toContain("/pause");
    const before = (await e.call("GET", `/api/v1/namespaces/${A}/jobs/echo/runs`, undefined, admin())).body.items.length;
    for (const path of [`/ui/jobs/${A}/ja/pause`, `/ui/jobs/${A}/echo/trigger`, `/ui/runs/${runs.echo}/kill`]) {
      const r = await c.post(path);
      expect({ path, status: r.status }).toEqual({ path, status: 403 });
      expect(r.text).toContain("needs a writer key");
    }
    expect(await enabled(A, "ja")).toBe(true);
    expect((await e.call("GET", `/api/v1/namespaces/${A}/jobs/echo/runs`, undefined, admin())).body.items.length).toBe(before);
  });
});

describe("what a key sees", () => {
  test("a namespace's key finds nothing of another namespace", async () => {
    const c = await as(keys.writerA);
    const jobs = await c.get("/ui");
    expect(jobs.text).toContain(`/ui/jobs/${A}/ja`);
    expect(jobs.text).not.toContain(B);
    expect((await c.get(`/ui?namespace=${B}`)).text).not.toContain("jb");
    for (const path of [`/ui/jobs/${B}/jb`, `/ui/runs/${runs.failedB}`, `/ui/runs/${runs.failedB}/events`]) expect((await c.get(path)).status).toBe(404);
    expect((await c.post(`/ui/jobs/${B}/jb/trigger`)).status).toBe(404);
    expect((await c.post(`/ui/runs/${runs.failedB}/kill`)).status).toBe(404);
    const failed = await c.get("/ui/failed");
    expect(failed.text).toContain(`/ui/runs/${runs.failedA}`);
    expect(failed.text).not.toContain(`/ui/runs/${runs.failedB}"`);
    expect((await c.get("/ui/upcoming")).text).not.toContain(B);
    expect((await c.get("/ui/nodes")).status).toBe(403);
    // The last results of a page of jobs are read for the jobs the key sees only.
    const jobB = (await e.call("GET", `/api/v1/namespaces/${B}/jobs/boom-b`, undefined, admin())).body;
    const access = { key: null, role: "writer" as const, namespaces: [A] };
    expect((await lastResults({ store: e.deps.store, access }, [jobB])).size).toBe(0);
    expect((await lastResults(e.deps, [jobB])).get(jobB.id)?.id).toBe(runs.failedB);
  });

  test("an admin sees every namespace, the nodes and the failed runs of the last 24 hours", async () => {
    const c = await as(keys.admin);
    const jobs = await c.get("/ui");
    for (const name of ["ja", "jb", "boom", "boom-b"]) expect(jobs.text).toContain(`>${name}</a>`);
    // Each job's last result links to its run; a job never run says so.
    for (const id of [runs.failedA, runs.failedB]) expect(jobs.text).toContain(`href="/ui/runs/${id}"`);
    expect(jobs.text.match(/never run/g)?.length).toBe(2);
    const failed = await c.get("/ui/failed");
    expect(failed.text).toContain(`/ui/runs/${runs.failedA}`);
    expect(failed.text).toContain(`/ui/runs/${runs.failedB}`);
    expect(failed.text).not.toContain(`/ui/runs/${runs.echo}"`);
    expect((await c.get(`/ui/failed?namespace=${B}`)).text).not.toContain(`/ui/runs/${runs.failedA}"`);
    const nodes = await c.get("/ui/nodes");
    expect(nodes.status).toBe(200);
    expect(nodes.text).toContain("test-node");
    const run = await c.get(`/ui/runs/${runs.failedA}`);
    expect(run.text).toContain("about to fail");
    expect(run.text).toContain("failed");
  });
});

describe("bad input", () => {
  test("is a 4xx page in words, never a 500", async () => {
    const c = await as(keys.admin);
    const cases: [string, number, string][] = [
      ["/ui/runs/abc", 400, "run id must be a positive integer"],
      ["/ui/runs/99999999", 404, "run 99999999 not found"],
      ["/ui/jobs/team-a/nope", 404, "job team-a/nope not found"],
      ["/ui?namespace=%20bad", 400, "namespace"],
      ["/ui/jobs/team-a/ja?cursor=garbage", 400, "cursor"],
      ["/ui/preview?spec=61+*+*+*+*", 400, "spec:"],
      ["/ui/preview?spec=%40daily&timezone=Mars%2FOlympus", 400, "timezone:"],
      ["/ui/preview?spec=%40daily&count=0", 400, "count:"],
      ["/ui/preview?spec=%40daily&count=abc", 400, "count:"],
      ["/ui/preview?spec=", 400, "spec:"],
      [`/ui/runs/${runs.echo}/events?after=x`, 400, "after"],
    ];
    for (const [path, status, text] of cases) {
      const r = await c.get(path);
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(r.headers.get("content-type")).toStartWith("text/html");
      expect(r.text).toContain(text);
    }
    expect((await c.post("/ui/runs/abc/kill")).status).toBe(400);
    expect((await c.post(`/ui/runs/${runs.echo}/kill`)).status).toBe(409);
    const empty = client();
    await empty.get("/ui/login");
    expect((await empty.post("/ui/login", { key: "" })).status).toBe(400);
  });

  test("a form body that cannot be read is a 400 page, not a 500, and changes nothing", async () => {
    const c = await as(keys.admin);
    for (const type of ["multipart/form-data; boundary=zz", "multipart/form-data"]) {
      for (const path of ["/ui/jobs/team-a/ja/pause", "/ui/login", "/ui/logout"]) {
        const r = await e.app.request(path, { method: "POST", headers: { host: "localhost", origin: "http://localhost", "content-type": type, cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join("; ") }, body: "--zz\r\nbroken" });
        expect({ path, type, status: r.status }).toEqual({ path, type, status: 400 });
        expect(await r.text()).toContain("cannot be read");
      }
    }
    expect(await enabled(A, "ja")).toBe(true);
  });
});

describe("streams", () => {
  test("HEAD on a running run's events answers the stream's headers and leaves no follower behind", async () => {
    expect((await e.call("PUT", `/api/v1/namespaces/${A}/jobs/long`, { target: proc("sleep 30") }, admin())).status).toBe(201);
    const id = await trigger(A, "long");
    await waitUntil(async () => (await e.call("GET", `/api/v1/runs/${id}`, undefined, admin())).body.status === "running", "the run to start");
    const c = await as(keys.admin);
    const before = e.deps.scheduler.events.count("run:log");
    const head = await e.app.request(`/ui/runs/${id}/events`, { method: "HEAD", headers: { host: "localhost", cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toStartWith("text/event-stream");
    expect(e.deps.scheduler.events.count("run:log")).toBe(before);
    expect((await e.call("POST", `/api/v1/runs/${id}/kill`, undefined, admin())).status).toBe(200);
  });
});

describe("a key over its rate", () => {
  test("may still log out, and another key may log in in its place", async () => {
    const limited = await testEnv({ config: { auth: { mode: "keys" }, limits: { rate: { count: 2, perMs: 60_000 }, burst: 2 } as never } });
    try {
      const tight = (await createKey(limited.deps, { role: "reader", allNamespaces: true, name: "tight" })).token;
      const other = (await createKey(limited.deps, { role: "reader", allNamespaces: true, name: "other" })).token;
      await limited.deps.keys.refresh();
      const c = new UiClient((path, init) => Promise.resolve(limited.app.request(path, init)));
      await c.get("/ui/login");
      expect((await c.post("/ui/login", { key: tight })).status).toBe(303);
      let status = 200;
      for (let i = 0; i < 5 && status !== 429; i++) status = (await c.get("/ui")).status;
      expect(status).toBe(429); // the key in the cookie is over its rate now
      expect((await c.get("/ui/login")).status).toBe(200);
      const swapped = await c.post("/ui/login", { key: other });
      expect(swapped.status).toBe(303);
      expect((await c.get("/ui")).status).toBe(200);
      expect((await c.post("/ui/logout")).status).toBe(303);
      expect((await c.get("/ui")).status).toBe(401);
    } finally {
      await limited.close();
    }
  });
});

describe("pages", () => {
  test("a strict Content-Security-Policy, no framing, no caching; the assets are embedded, open and cached for good", async () => {
    const c = await as(keys.admin);
    const page = await c.get("/ui");
    const csp = page.headers.get("content-security-policy")!;
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"]) expect(csp).toContain(d);
    expect(csp).not.toContain("unsafe");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.text).not.toMatch(/<script>|<style>| style=| on[a-z]+=/); // nothing inline
    const assets = [...page.text.matchAll(/"(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBe(3);
    for (const path of assets) {
      const r = await client().get(path); // no key needed: they hold nothing of anyone's
      expect(r.status).toBe(200);
      expect(r.headers.get("cache-control")).toContain("immutable");
      expect(r.headers.get("content-type")).toMatch(/^(text\/css|text\/javascript|image\/svg\+xml)/);
    }
    expect((await client().get("/ui/assets/app.000000000000.css")).status).toBe(404);
  });

  test("a schedule preview shows the next times with the DST notes", async () => {
    const c = await as(keys.readerA);
    const gap = await c.get("/ui/preview?spec=30+2+*+*+*&timezone=America%2FNew_York&count=400");
    expect(gap.status).toBe(200);
    expect(gap.text).toContain("DST gap");
    const overlap = await c.get("/ui/preview?spec=30+1+*+*+*&timezone=America%2FNew_York&count=400");
    expect(overlap.text).toContain("DST overlap");
  });

  test("a run's lines stream as server-sent events, from after the page's last line, then its end", async () => {
    const c = await as(keys.readerA);
    const r = await c.get(`/ui/runs/${runs.echo}/events`);
    expect(r.headers.get("content-type")).toStartWith("text/event-stream");
    expect(r.text).toContain("event: line");
    for (const l of ["hello", "to stderr", "bye"]) expect(r.text).toContain(l);
    expect(r.text).toContain('event: end\ndata: {"status":"succeeded"}');
    const seqs = new Map([...r.text.matchAll(/^data: (\{"seq".*)$/gm)].map((m) => [JSON.parse(m[1]).line, JSON.parse(m[1]).seq]));
    const rest = await c.get(`/ui/runs/${runs.echo}/events?after=${seqs.get("hello")}`);
    expect(rest.text).not.toContain("hello");
    expect(rest.text).toContain("bye");
    const last = Math.max(...seqs.values());
    const none = await c.get(`/ui/runs/${runs.echo}/events`, { "last-event-id": String(last) });
    expect(none.text).not.toContain("event: line");
    expect(none.text).toContain("event: end");
  });
});

describe("with no keys needed (loopback, [auth] mode auto)", () => {
  let open: TestEnv;
  beforeAll(async () => {
    open = await testEnv();
    await open.call("PUT", "/api/v1/namespaces/o/jobs/j", { schedule: "@every 1h", target: http });
  });
  afterAll(() => open.close());

  test("pages need no login; forms still need their token and this origin", async () => {
    const c = new UiClient((path, init) => Promise.resolve(open.app.request(path, init)));
    const page = await c.get("/ui");
    expect(page.status).toBe(200);
    expect(page.text).toContain(">j</a>");
    expect(page.text).not.toContain("/ui/logout");
    expect((await c.get("/ui/login")).status).toBe(303);
    expect((await c.post("/ui/jobs/o/j/pause", {}, { token: null })).status).toBe(403);
    expect((await c.post("/ui/jobs/o/j/pause", {}, { origin: "http://evil.example" })).status).toBe(403);
    expect((await open.call("GET", "/api/v1/namespaces/o/jobs/j")).body.enabled).toBe(true);
    expect((await c.post("/ui/jobs/o/j/pause")).status).toBe(303);
    expect((await open.call("GET", "/api/v1/namespaces/o/jobs/j")).body.enabled).toBe(false);
  });

  test("the jobs of every namespace, 100 a page, one namespace after another, each once", async () => {
    for (const ns of ["p1", "p2", "p3"]) for (let i = 0; i < 60; i++) expect((await open.call("PUT", `/api/v1/namespaces/${ns}/jobs/j${String(i).padStart(2, "0")}`, { target: http })).status).toBe(201);
    const c = new UiClient((path, init) => Promise.resolve(open.app.request(path, init)));
    const seen: string[] = [];
    let path: string | null = "/ui";
    const pages: number[] = [];
    while (path) {
      const page = await c.get(path);
      expect(page.status).toBe(200);
      const rows = [...page.text.matchAll(/href="\/ui\/jobs\/([^/"]+)\/([^"]+)"/g)].map((m) => `${m[1]}/${m[2]}`);
      pages.push(rows.length);
      seen.push(...rows);
      path = /<a href="(\/ui\?[^"]*cursor=[^"]+)">Next page/.exec(page.text)?.[1]?.replaceAll("&amp;", "&") ?? null;
    }
    expect(pages).toEqual([100, 81]); // o/j, then p1, p2, p3: 181 jobs
    expect(new Set(seen).size).toBe(181);
    expect(seen.slice(0, 3)).toEqual(["o/j", "p1/j00", "p1/j01"]);
    // A cursor's namespace emptied meanwhile: the next page goes on at the namespace after it.
    const after = await c.get("/ui?cursor=p15~");
    expect(after.status).toBe(200);
    expect([...after.text.matchAll(/href="\/ui\/jobs\/([^/"]+)\/([^"]+)"/g)].map((m) => `${m[1]}/${m[2]}`).slice(0, 2)).toEqual(["p2/j00", "p2/j01"]);
    expect((await c.get("/ui?cursor=zz~")).text).not.toContain('href="/ui/jobs/');
    for (const bad of ["~x", "nocut", "p1~garbage", "-bad~"]) expect({ bad, status: (await c.get(`/ui?cursor=${encodeURIComponent(bad)}`)).status }).toEqual({ bad, status: 400 });
  }, 30_000);
});
