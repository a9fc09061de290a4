// Every route, native and foreign, with no key, a wrong key, a revoked key, an expired key, a reader key and
// another namespace's key: each refused in its own API's shape, or answered as if the namespace did not
// exist, and nothing changed. The table must cover every route the app serves (checked against app.routes).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execId } from "../../src/compat/alauda/execs.ts";
import { createKey } from "../../src/domain/keys.ts";
import { insertKey } from "../../src/store/keys.ts";
import { ASSETS } from "../../src/ui/assets/index.ts";
import { csrfToken } from "../../src/ui/session.ts";
import { read } from "../../src/store/sql.ts";
import { type TestEnv, testEnv, withProcesses } from "../helpers.ts";

type Surface = "native" | "dcs" | "dapr" | "alauda" | "juice" | "schedulerx" | "ui";

/** What a test creates before each request: one resource of each API in namespace team-a. */
interface Fixture {
  runId: number;
  alaudaJob: number;
  alaudaExec: string;
  juiceTask: number;
  sxJob: number;
  sxInstance: number;
  keyId: string;
  wfInstance: number;
  sxWorkflow: number;
}

interface Case {
  /** "METHOD /pattern", as app.routes lists it. */
  route: string;
  surface: Surface;
  /** reader: any key that sees the namespace may call it; writer: a change; admin: keys and nodes; anyone: no key needed. */
  needs: "reader" | "writer" | "admin" | "anyone";
  request(f: Fixture): { path: string; body?: unknown; headers?: Record<string, string> };
}

const A = "team-a";
const SX_A = { namespace: "sx-a", groupId: "g" };
const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/a" } }, memo: "MARK-A" };
const workflow = { steps: [{ id: "s", target: { http: { url: "http://127.0.0.1:9/MARK-A" } } }] };
const form = (o: Record<string, unknown>) => ({ "content-type": "application/x-www-form-urlencoded", body: new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString() });
const sxForm = (extra: Record<string, unknown>) => {
  const f = form({ ...SX_A, ...extra });
  return { body: f.body, headers: { "content-type": f["content-type"] } };
};
const tenant = { "x-tenant-id": A };
const dcsJob = { expr: "@every 1h", callback: { http: { url: "http://127.0.0.1:9/dcs", body: "MARK-A" } } };
const alaudaBody = { name: "MARK-A", namespace: A, docker_image_repo: "alpine", command: "true" };

const CASES: Case[] = [
  // native
  { route: "GET /api/v1/nodes", surface: "native", needs: "admin", request: () => ({ path: "/api/v1/nodes" }) },
  { route: "GET /api/v1/schedule/preview", surface: "native", needs: "reader", request: () => ({ path: "/api/v1/schedule/preview?spec=@every%201h" }) },
  { route: "PUT /api/v1/namespaces/:ns/jobs/:name", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/new`, body: job }) },
  { route: "POST /api/v1/namespaces/:ns/jobs:batch", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs:batch`, body: { jobs: [{ name: "bnew", ...job }] } }) },
  { route: "GET /api/v1/namespaces/:ns/jobs/:name", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja` }) },
  { route: "DELETE /api/v1/namespaces/:ns/jobs/:name", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja` }) },
  { route: "GET /api/v1/namespaces/:ns/jobs", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/jobs` }) },
  { route: "POST /api/v1/namespaces/:ns/jobs/:name/trigger", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja/trigger` }) },
  { route: "POST /api/v1/namespaces/:ns/jobs/:name/pause", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja/pause` }) },
  { route: "POST /api/v1/namespaces/:ns/jobs/:name/resume", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja/resume` }) },
  { route: "GET /api/v1/namespaces/:ns/jobs/:name/runs", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/jobs/ja/runs` }) },
  { route: "GET /api/v1/runs/:id", surface: "native", needs: "reader", request: (f) => ({ path: `/api/v1/runs/${f.runId}` }) },
  { route: "PUT /api/v1/namespaces/:ns/workflows/:name", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/workflows/wnew`, body: workflow }) },
  { route: "GET /api/v1/namespaces/:ns/workflows/:name", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/workflows/wa` }) },
  { route: "DELETE /api/v1/namespaces/:ns/workflows/:name", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/workflows/wa` }) },
  { route: "GET /api/v1/namespaces/:ns/workflows", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/workflows` }) },
  { route: "POST /api/v1/namespaces/:ns/workflows/:name/trigger", surface: "native", needs: "writer", request: () => ({ path: `/api/v1/namespaces/${A}/workflows/wa/trigger` }) },
  { route: "GET /api/v1/namespaces/:ns/workflows/:name/instances", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/workflows/wa/instances` }) },
  { route: "GET /api/v1/namespaces/:ns/notifications", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/namespaces/${A}/notifications` }) },
  { route: "GET /api/v1/workflow-instances/:id", surface: "native", needs: "reader", request: (f) => ({ path: `/api/v1/workflow-instances/${f.wfInstance}` }) },
  { route: "POST /api/v1/workflow-instances/:id/cancel", surface: "native", needs: "writer", request: (f) => ({ path: `/api/v1/workflow-instances/${f.wfInstance}/cancel` }) },
  { route: "GET /api/v1/namespaces", surface: "native", needs: "reader", request: () => ({ path: "/api/v1/namespaces" }) },
  { route: "GET /api/v1/runs", surface: "native", needs: "reader", request: () => ({ path: `/api/v1/runs?namespace=${A}` }) },
  { route: "GET /api/v1/upcoming", surface: "native", needs: "reader", request: () => ({ path: "/api/v1/upcoming" }) },
  { route: "POST /api/v1/runs/:id/kill", surface: "native", needs: "writer", request: (f) => ({ path: `/api/v1/runs/${f.runId}/kill` }) },
  { route: "DELETE /api/v1/runs/:id", surface: "native", needs: "writer", request: (f) => ({ path: `/api/v1/runs/${f.runId}` }) },
  { route: "GET /api/v1/runs/:id/logs", surface: "native", needs: "reader", request: (f) => ({ path: `/api/v1/runs/${f.runId}/logs` }) },
  { route: "POST /api/v1/keys", surface: "native", needs: "admin", request: () => ({ path: "/api/v1/keys", body: { role: "reader", namespaces: [A] } }) },
  { route: "GET /api/v1/keys", surface: "native", needs: "admin", request: () => ({ path: "/api/v1/keys" }) },
  { route: "GET /api/v1/keys/:id", surface: "native", needs: "admin", request: (f) => ({ path: `/api/v1/keys/${f.keyId}` }) },
  { route: "DELETE /api/v1/keys/:id", surface: "native", needs: "admin", request: (f) => ({ path: `/api/v1/keys/${f.keyId}` }) },
  // (any role, but a key that sees every namespace: the admin key here; a namespace's keys get 403)
  { route: "GET /metrics", surface: "native", needs: "admin", request: () => ({ path: "/metrics" }) },
  // DCS
  { route: "PUT /jobs/:ns/:name", surface: "dcs", needs: "writer", request: () => ({ path: `/jobs/${A}/dnew`, body: dcsJob }) },
  { route: "GET /jobs/:ns/:name", surface: "dcs", needs: "reader", request: () => ({ path: `/jobs/${A}/dj` }) },
  { route: "DELETE /jobs/:ns/:name", surface: "dcs", needs: "writer", request: () => ({ path: `/jobs/${A}/dj` }) },
  { route: "GET /jobs/:ns/:name/his", surface: "dcs", needs: "reader", request: () => ({ path: `/jobs/${A}/dj/his` }) },
  // Dapr (its namespace is team-a here)
  ...(["/v1.0-alpha1", "/v1.0"] as const).flatMap((p): Case[] => [
    { route: `POST ${p}/jobs/:name`, surface: "dapr", needs: "writer", request: () => ({ path: `${p}/jobs/dnew`, body: { schedule: "@every 1h", data: "MARK-A" } }) },
    { route: `GET ${p}/jobs/:name`, surface: "dapr", needs: "reader", request: () => ({ path: `${p}/jobs/dpj` }) },
    { route: `DELETE ${p}/jobs/:name`, surface: "dapr", needs: "writer", request: () => ({ path: `${p}/jobs/dpj` }) },
  ]),
  // Alauda
  { route: "POST /v1/jobs", surface: "alauda", needs: "writer", request: () => ({ path: "/v1/jobs", body: alaudaBody }) },
  { route: "GET /v1/jobs", surface: "alauda", needs: "reader", request: () => ({ path: `/v1/jobs?namespace=${A}` }) },
  { route: "GET /v1/jobs/:id", surface: "alauda", needs: "reader", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}` }) },
  { route: "PUT /v1/jobs/:id", surface: "alauda", needs: "writer", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}`, body: { command: "echo changed" } }) },
  { route: "DELETE /v1/jobs/:id", surface: "alauda", needs: "writer", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}` }) },
  { route: "POST /v1/jobs/:id/execs", surface: "alauda", needs: "writer", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}/execs` }) },
  { route: "GET /v1/jobs/:id/execs", surface: "alauda", needs: "reader", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}/execs` }) },
  { route: "GET /v1/jobs/:id/execs/:exec", surface: "alauda", needs: "reader", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}/execs/${f.alaudaExec}` }) },
  { route: "DELETE /v1/jobs/:id/execs/:exec", surface: "alauda", needs: "writer", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}/execs/${f.alaudaExec}` }) },
  { route: "GET /v1/jobs/:id/execs/:exec/logs", surface: "alauda", needs: "reader", request: (f) => ({ path: `/v1/jobs/${f.alaudaJob}/execs/${f.alaudaExec}/logs` }) },
  // Juice (the tenant is the namespace)
  { route: "POST /v1/tasks", surface: "juice", needs: "writer", request: () => ({ path: "/v1/tasks", body: { taskName: "MARK-A", commands: "true" }, headers: tenant }) },
  { route: "GET /v1/tasks", surface: "juice", needs: "reader", request: (f) => ({ path: `/v1/tasks?taskIds=${f.juiceTask}`, headers: tenant }) },
  { route: "POST /v1/tasks/kill", surface: "juice", needs: "writer", request: (f) => ({ path: `/v1/tasks/kill?taskId=${f.juiceTask}`, headers: tenant }) },
  // SchedulerX (namespace sx-a, group g: native namespace sx-a:g)
  ...(["GET", "POST"] as const).flatMap((m): Case[] => [
    { route: `${m} /openapi/job/v1/get`, surface: "schedulerx", needs: "reader", request: (f) => ({ path: `/openapi/job/v1/get?namespace=sx-a&groupId=g&jobId=${f.sxJob}` }) },
    { route: `${m} /openapi/v1/instance/getList`, surface: "schedulerx", needs: "reader", request: (f) => ({ path: `/openapi/v1/instance/getList?namespace=sx-a&groupId=g&jobId=${f.sxJob}` }) },
    { route: `${m} /openapi/v1/instance/get`, surface: "schedulerx", needs: "reader", request: (f) => ({ path: `/openapi/v1/instance/get?namespace=sx-a&groupId=g&jobId=${f.sxJob}&jobInstanceId=${f.sxInstance}` }) },
  ]),
  { route: "POST /openapi/v1/job/create", surface: "schedulerx", needs: "writer", request: () => ({ path: "/openapi/v1/job/create", ...sxForm({ jobType: "shell", content: "true", name: "MARK-A", executeMode: "standalone", timeType: 100 }) }) },
  { route: "POST /openapi/v1/job/update", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/job/update", ...sxForm({ jobId: f.sxJob, description: "changed" }) }) },
  { route: "POST /openapi/v1/job/delete", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/job/delete", ...sxForm({ jobId: f.sxJob }) }) },
  { route: "POST /openapi/v1/job/enable", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/job/enable", ...sxForm({ jobId: f.sxJob }) }) },
  { route: "POST /openapi/v1/job/disable", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/job/disable", ...sxForm({ jobId: f.sxJob }) }) },
  { route: "POST /openapi/v1/job/execute", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/job/execute", ...sxForm({ jobId: f.sxJob }) }) },
  { route: "POST /openapi/v1/instance/kill", surface: "schedulerx", needs: "writer", request: (f) => ({ path: "/openapi/v1/instance/kill", ...sxForm({ jobId: f.sxJob, instanceId: f.sxInstance }) }) },
  ...["execute", "enable", "disable", "delete"].map(
    (verb): Case => ({ route: `POST /openapi/v1/workflow/${verb}`, surface: "schedulerx", needs: "writer", request: (f) => ({ path: `/openapi/v1/workflow/${verb}`, ...sxForm({ workflowId: f.sxWorkflow }) }) }),
  ),
  // The dashboard (the key in its cookie; forms with the session's token, from this origin)
  { route: "GET /ui", surface: "ui", needs: "reader", request: () => ({ path: `/ui?namespace=${A}` }) },
  { route: "GET /ui/jobs/:ns/:name", surface: "ui", needs: "reader", request: () => ({ path: `/ui/jobs/${A}/ja` }) },
  { route: "POST /ui/jobs/:ns/:name/pause", surface: "ui", needs: "writer", request: () => ({ path: `/ui/jobs/${A}/ja/pause` }) },
  { route: "POST /ui/jobs/:ns/:name/resume", surface: "ui", needs: "writer", request: () => ({ path: `/ui/jobs/${A}/ja/resume` }) },
  { route: "POST /ui/jobs/:ns/:name/trigger", surface: "ui", needs: "writer", request: () => ({ path: `/ui/jobs/${A}/ja/trigger` }) },
  { route: "GET /ui/runs/:id", surface: "ui", needs: "reader", request: (f) => ({ path: `/ui/runs/${f.runId}` }) },
  { route: "GET /ui/runs/:id/events", surface: "ui", needs: "reader", request: (f) => ({ path: `/ui/runs/${f.runId}/events` }) },
  { route: "POST /ui/runs/:id/kill", surface: "ui", needs: "writer", request: (f) => ({ path: `/ui/runs/${f.runId}/kill` }) },
  { route: "GET /ui/failed", surface: "ui", needs: "reader", request: () => ({ path: `/ui/failed?namespace=${A}` }) },
  { route: "GET /ui/upcoming", surface: "ui", needs: "reader", request: () => ({ path: `/ui/upcoming?namespace=${A}` }) },
  { route: "GET /ui/preview", surface: "ui", needs: "reader", request: () => ({ path: "/ui/preview?spec=%40every%201h" }) },
  { route: "GET /ui/nodes", surface: "ui", needs: "admin", request: () => ({ path: "/ui/nodes" }) },
  // (what a browser needs before it has a key: the login form, its stylesheet, script and icon, and the way out)
  { route: "GET /ui/assets/:file", surface: "ui", needs: "anyone", request: () => ({ path: ASSETS.css }) },
  { route: "GET /ui/login", surface: "ui", needs: "anyone", request: () => ({ path: "/ui/login" }) },
  { route: "POST /ui/login", surface: "ui", needs: "anyone", request: () => ({ path: "/ui/login" }) }, // (the key goes in the form)
  { route: "POST /ui/logout", surface: "ui", needs: "anyone", request: () => ({ path: "/ui/logout" }) },
];

/** The shape of a 401 in each API's own terms. */
const REFUSED: Record<Surface, (body: any) => void> = {
  native: (b) => expect(b.error.code).toBe("unauthorized"),
  dcs: (b) => expect(typeof b.msg).toBe("string"),
  dapr: (b) => expect(typeof b.errorCode).toBe("string"),
  alauda: (b) => expect(b.errors[0].code).toBe("not_authenticated"),
  juice: (b) => expect(b.status).toBe(401),
  schedulerx: (b) => expect(b).toMatchObject({ code: 401, success: false }),
  ui: (b) => expect(b).toContain('name="key"'), // the login form
};

const methodOf = (route: string) => route.split(" ")[0];

interface Keys {
  admin: string;
  writerA: string;
  readerA: string;
  writerB: string;
  revoked: string;
  expired: string;
}

async function setup(): Promise<{ e: TestEnv; f: Fixture; keys: Keys }> {
  const e = await testEnv({
    config: {
      auth: { mode: "keys" },
      executors: withProcesses({}, { container: { cli: "/bin/true", runArgs: [] } }),
      compat: { ...(await import("../../src/config.ts")).parseConfig(null, {}).compat, daprNamespace: A, daprAppUrl: "http://127.0.0.1:9" },
    },
  });
  const make = async (body: Record<string, unknown>) => (await createKey(e.deps, body)).token;
  const scopeA = [A, "sx-a:g"];
  const keys: Keys = {
    admin: await make({ role: "admin", allNamespaces: true, name: "root" }),
    writerA: await make({ role: "writer", namespaces: scopeA }),
    readerA: await make({ role: "reader", namespaces: scopeA }),
    writerB: await make({ role: "writer", namespaces: ["team-b", "sx-b:g"] }),
    revoked: await make({ role: "admin", allNamespaces: true }),
    expired: "tock_expiredkey01_".concat("x".repeat(43)),
  };
  await e.call("DELETE", `/api/v1/keys/${keys.revoked.slice(5, 17)}`, undefined, { authorization: `Bearer ${keys.admin}` });
  // An expired admin key, straight into the table (expiry is checked against the clock at each request).
  const { createHash } = await import("node:crypto");
  await insertKey(e.deps.store, { id: "expiredkey01", name: "old", role: "admin", namespaces: null, hash: createHash("sha256").update("x".repeat(43)).digest("hex"), createdAt: 0, expiresAt: 1000 });
  await e.deps.keys.refresh();
  const H = { authorization: `Bearer ${keys.admin}` };
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await e.call(method, path, body, { ...H, ...headers });
    if (r.status >= 300) throw new Error(`setup ${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  await call("PUT", `/api/v1/namespaces/${A}/jobs/ja`, job);
  const run = await call("POST", `/api/v1/namespaces/${A}/jobs/ja/trigger`);
  await call("PUT", `/jobs/${A}/dj`, dcsJob);
  await call("POST", "/v1.0-alpha1/jobs/dpj", { schedule: "@every 1h", data: "MARK-A" });
  const alauda = await call("POST", "/v1/jobs", alaudaBody);
  const exec = await call("POST", `/v1/jobs/${alauda.id}/execs`);
  const juice = await call("POST", "/v1/tasks", { taskName: "MARK-A", commands: "true" }, tenant);
  const sxJob = (await call("POST", "/openapi/v1/job/create", sxForm({ jobType: "shell", content: "true", name: "MARK-A", executeMode: "standalone", timeType: 100 }).body, sxForm({}).headers)).data;
  const sxInstance = (await call("POST", "/openapi/v1/job/execute", sxForm({ jobId: sxJob }).body, sxForm({}).headers)).data;
  const keyId = (await call("POST", "/api/v1/keys", { role: "reader", namespaces: [A], name: "victim" })).id;
  await call("PUT", `/api/v1/namespaces/${A}/workflows/wa`, workflow);
  // Not started: its first step's run stays queued, so the instance is running.
  const wfInstance = (await call("POST", `/api/v1/namespaces/${A}/workflows/wa/trigger`)).id;
  // SchedulerX's workflowId is a native workflow's id, in the namespace of SchedulerX's namespace and group.
  const sxWorkflow = (await call("PUT", `/api/v1/namespaces/${SX_A.namespace}:${SX_A.groupId}/workflows/wsx`, workflow)).id;
  const f: Fixture = { runId: run.id, alaudaJob: alauda.id, alaudaExec: exec.id, juiceTask: juice.data.taskId, sxJob, sxInstance, keyId, wfInstance, sxWorkflow };
  return { e, f, keys };
}

/** Everything a refused request must leave as it was. */
async function snapshot(e: TestEnv): Promise<string> {
  const jobs = await read(e.deps.store, "SELECT id, namespace, name, enabled, version, memo, target FROM jobs ORDER BY id");
  const runs = await read(e.deps.store, "SELECT id, status, kill_requested_at FROM runs ORDER BY id");
  const keys = await read(e.deps.store, "SELECT id, revoked_at FROM api_keys ORDER BY id");
  const workflows = await read(e.deps.store, "SELECT id, version FROM workflows ORDER BY id");
  const instances = await read(e.deps.store, "SELECT id, status FROM workflow_instances ORDER BY id");
  return JSON.stringify({ jobs, runs, keys, workflows, instances });
}

/** A dashboard request as its browser sends it: the key in its cookie, a form with its session's token. */
async function sendUi(e: TestEnv, c: Case, f: Fixture, token: string | null) {
  const r = c.request(f);
  const method = methodOf(c.route);
  const session = "s".repeat(43);
  const login = c.route === "POST /ui/login";
  const headers: Record<string, string> = { host: "localhost", cookie: `tock_session=${session}${token && !login ? `; tock_key=${token}` : ""}` };
  let body: string | undefined;
  if (method === "POST") {
    Object.assign(headers, { origin: "http://localhost", "content-type": "application/x-www-form-urlencoded" });
    body = new URLSearchParams({ _csrf: csrfToken(session), ...(login ? { key: token ?? "" } : {}) }).toString();
  }
  const res = await e.app.request(r.path, { method, headers, body });
  // A live log stream never ends by itself: its status is what is checked.
  const stream = res.headers.get("content-type")?.startsWith("text/event-stream");
  const text = stream ? (await res.body?.cancel(), "") : await res.text();
  return { status: res.status, body: text as any, headers: res.headers };
}

async function send(e: TestEnv, c: Case, f: Fixture, token: string | null) {
  if (c.surface === "ui") return sendUi(e, c, f, token);
  const r = c.request(f);
  const headers: Record<string, string> = { ...r.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  return e.call(methodOf(c.route), r.path, r.body, headers);
}

/**
 * Routes served without a key even where keys are required, each with its reason; the table above does not
 * hold them, and the test below checks that they answer with no key and hold no data.
 */
const OPEN: Record<string, string> = {
  "GET /healthz": "liveness, for load balancers and process supervisors",
  "GET /readyz": "readiness, for the same",
  "GET /api/v1/openapi.json": "the API's description, no data (src/api/auth.ts OPEN_PATHS): the reference page and client generators read it",
  "GET /docs": "the reference page (HTML), no data",
  "GET /docs/": "redirects to /docs",
  "GET /docs/assets/:file": "the reference page's scripts and styles",
};

test("the open routes answer without a key, and give nothing away", async () => {
  const { e, keys } = await setup();
  try {
    for (const route of Object.keys(OPEN)) {
      const path = route.split(" ")[1].replace(":file", "none.js");
      const r = await e.call("GET", path);
      expect({ route, status: r.status }).not.toEqual({ route, status: 401 });
      expect(JSON.stringify(r.body)).not.toContain("MARK-A");
    }
    // An open path opens nothing else: a key is still needed beside it, and a key sent to it changes nothing.
    expect((await e.call("GET", "/api/v1/openapi.json/")).status).toBe(401);
    expect((await e.call("GET", "/api/v1/openapi.json", undefined, { authorization: `Bearer ${keys.revoked}` })).status).toBe(200);
  } finally {
    await e.close();
  }
});

test("the table covers every route the app serves", async () => {
  const e = await testEnv({ config: { compat: { ...(await import("../../src/config.ts")).parseConfig(null, {}).compat } } });
  try {
    const served = new Set(e.app.routes.filter((r) => r.method !== "ALL" && !(`${r.method} ${r.path}` in OPEN) && !r.path.endsWith("/jobs/") && !/\/v1\.0(-alpha1)?\/jobs$/.test(r.path)).map((r) => `${r.method} ${r.path}`));
    const covered = new Set(CASES.map((c) => c.route));
    expect([...served].filter((r) => !covered.has(r))).toEqual([]);
    expect([...covered].filter((r) => !served.has(r))).toEqual([]);
  } finally {
    await e.close();
  }
});

describe.each(CASES.map((c) => [c.route, c] as const))("%s", (_, c) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(() => env.e.close());

  test("refused without a valid key, in the API's own shape, changing nothing", async () => {
    const { e, f, keys } = env;
    const before = await snapshot(e);
    for (const token of [null, "tock_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "not-a-key", keys.revoked, keys.expired]) {
      const r = await send(e, c, f, token);
      if (c.needs === "anyone") {
        expect({ token, served: r.status < 500 }).toEqual({ token, served: true });
        continue;
      }
      expect({ token, status: r.status }).toEqual({ token, status: 401 });
      REFUSED[c.surface](r.body);
      if (c.surface !== "dapr" && c.surface !== "ui") expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
    }
    expect(await snapshot(e)).toBe(before);
  });

  test("a reader key may read; a change or an admin route is 403 and changes nothing", async () => {
    const { e, f, keys } = env;
    const before = await snapshot(e);
    const r = await send(e, c, f, keys.readerA);
    if (c.needs === "reader" || c.needs === "anyone") expect(r.status).toBeLessThan(400);
    else expect(r.status).toBe(403);
    expect(await snapshot(e)).toBe(before);
  });

  test("another namespace's key finds nothing there and changes nothing", async () => {
    const { e, f, keys } = env;
    const before = await snapshot(e);
    const r = await send(e, c, f, keys.writerB);
    if (c.needs === "admin") expect(r.status).toBe(403);
    else expect([401, 403]).not.toContain(r.status);
    expect(JSON.stringify(r.body)).not.toContain("MARK-A");
    expect(await snapshot(e)).toBe(before);
  });

  test("the namespace's own key is served (found, allowed)", async () => {
    const { e, f, keys } = env;
    const r = await send(e, c, f, c.needs === "admin" ? keys.admin : keys.writerA);
    // (A queued run cannot be deleted before it is killed: 409.)
    expect([401, 403, 404]).not.toContain(r.status);
    expect(r.status).toBeLessThan(c.route === "DELETE /api/v1/runs/:id" ? 410 : 400);
  });
});
