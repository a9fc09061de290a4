// The OpenAPI document (/api/v1/openapi.json): valid OpenAPI 3.1 by a real validator, covering exactly the
// native routes the app serves, its request schemas agreeing with what the server accepts and refuses, its
// query parameters' bounds being the server's, and every answer the server gives being one it documents.
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildOpenApi, openApiJson } from "../../src/api/openapi.ts";
import { OPERATIONS } from "../../src/api/openapi/paths.ts";
import { compatRoutes } from "../../src/compat/index.ts";
import { type TestEnv, testEnv, withProcesses } from "../helpers.ts";

type Json = Record<string, any>;
const DOC = buildOpenApi("test");

/** A JSON Schema validator over the document's schemas; `closed`: objects take no field they do not list. */
function validatorOf(doc: Json, closed = false) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const copy = structuredClone(doc);
  if (closed) {
    const close = (x: unknown): void => {
      if (Array.isArray(x)) return x.forEach(close);
      if (!x || typeof x !== "object") return;
      const s = x as Json;
      if (s.properties && s.additionalProperties === undefined) s.additionalProperties = false;
      Object.values(s).forEach(close);
    };
    close(copy.components.schemas);
  }
  ajv.addSchema(copy, "doc");
  return (schema: Json, value: unknown) => {
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
    return validate(value) ? null : JSON.stringify(validate.errors).slice(0, 800);
  };
}
const check = validatorOf(DOC);
const component = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** "PUT /api/v1/namespaces/:ns/jobs/:name" for an operation. */
const routeOf = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;

describe("the document", () => {
  test("is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator), every $ref resolves", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(DOC));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  test("its schemas are valid JSON Schema 2020-12 (the validator above does not look inside them)", () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    for (const [name, schema] of Object.entries(DOC.components.schemas as Json)) {
      expect({ name, valid: ajv.validateSchema(schema), errors: ajv.errors }).toEqual({ name, valid: true, errors: null });
    }
    // Each schema compiles (its patterns are valid regular expressions with the u flag, its refs resolve).
    for (const name of Object.keys(DOC.components.schemas)) expect(() => check(component(name), null)).not.toThrow();
  });

  test("describes every field a request body takes", () => {
    for (const name of ["JobInput", "KeyInput", "RunParams"]) {
      for (const [field, schema] of Object.entries(DOC.components.schemas[name].properties as Json)) expect({ name, field, described: !!schema.description }).toEqual({ name, field, described: true });
    }
  });

  test("is built once, and fast", () => {
    const started = performance.now();
    buildOpenApi("again");
    expect(performance.now() - started).toBeLessThan(500);
    expect(openApiJson("v")).toBe(openApiJson("v"));
  });
});

// Paths the app serves that are not the JSON API, and so not in the document, each with its reason. A new
// route elsewhere fails the coverage test below until it is documented or listed here.
const NOT_API: Record<string, string> = {
  "/docs": "the reference page rendering the document (HTML), its redirect and its scripts and styles",
  "/ui": "the dashboard (HTML)",
};
const notApi = (path: string) => Object.keys(NOT_API).some((p) => path === p || path.startsWith(`${p}/`));

test("documents every native route the app serves, and serves every route it documents", async () => {
  const e = await testEnv();
  try {
    const foreign = new Set(compatRoutes(e.deps).routes.map((r) => `${r.method} ${r.path}`));
    expect(foreign.size).toBeGreaterThan(10); // the facades are on by default: the split below means something
    const native = e.app.routes.filter((r) => r.method !== "ALL" && !foreign.has(`${r.method} ${r.path}`) && !notApi(r.path)).map((r) => `${r.method} ${r.path}`);
    const documented = Object.entries(DOC.paths as Json).flatMap(([path, ops]) => Object.keys(ops).map((m) => routeOf(m, path)));
    expect([...new Set(native)].filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !native.includes(r))).toEqual([]);
    expect(documented.length).toBe(new Set(documented).size);
  } finally {
    await e.close();
  }
});

describe("against the server", () => {
  let e: TestEnv;
  const NS = "docs";
  const http = (over: Json = {}) => ({ target: { http: { url: "http://127.0.0.1:9/hook", ...over } } });
  const proc = (over: Json) => ({ target: { process: over } });
  beforeAll(async () => {
    e = await testEnv({ config: { executors: withProcesses({}, { container: { cli: "/bin/true", runArgs: [] } }) } });
  });
  afterAll(() => e.close());

  /** Sends a body to the server and checks it against the document's schema: the two must agree. */
  async function judge(method: string, path: string, schema: string, body: unknown) {
    const r = await e.call(method, path, body);
    expect(r.status === 400 || r.status < 300).toBe(true);
    return { server: r.status < 300, doc: check(component(schema), body) === null, message: r.body?.error?.message as string | undefined, field: r.body?.error?.field };
  }

  let n = 0;
  const putJob = (body: unknown) => judge("PUT", `/api/v1/namespaces/${NS}/jobs/j${++n}`, "JobInput", body);

  test("a job body is accepted by the server exactly when the document's JobInput accepts it", async () => {
    const samples: [string, unknown, boolean][] = [
      ["an http job", { schedule: "@every 1h", ...http() }, true],
      ["every field", { schedule: "0 3 * * *", timezone: "Europe/London", repeats: 3, enabled: false, timeout: "30s", retry: { times: 3, interval: "2s", backoff: "fixed", maxInterval: "1m" }, overlap: "queue", maxConcurrency: 2, misfire: "all", payload: { a: [1] }, memo: "m", labels: { team: "x" }, ...http({ method: "PUT", headers: { "x-k": "v" }, body: "b", secretHeaders: ["x-k"] }) }, true],
      ["a process job", proc({ command: ["/bin/true"], env: { A: "1" }, secretEnv: ["A"], cwd: "/tmp" }), true],
      ["a shell job", proc({ shell: "true" }), true],
      ["a tcp job", { target: { tcp: { addr: "127.0.0.1:9", body: "aGk=", ack: "b2s=" } } }, true],
      ["a container job", { target: { container: { image: "Registry.example/App", tag: "1.0", resources: { cpus: 0.5, memory: "256M" } } } }, true],
      ["no target", { schedule: "@every 1h" }, false],
      ["an unknown field", { ...http(), tiemout: "1s" }, false],
      ["two kinds of target", { target: { ...http().target, tcp: { addr: "127.0.0.1:9", body: "" } } }, false],
      ["a target of no kind", { target: {} }, false],
      ["command and shell", proc({ command: ["/bin/true"], shell: "true" }), false],
      ["neither command nor shell", proc({}), false],
      ["a number for a duration", { ...http(), timeout: 5 }, false],
      ["retry past 1000 times", { ...http(), retry: { times: 1001 } }, false],
      ["maxConcurrency 0", { ...http(), maxConcurrency: 0 }, false],
      ["repeats 1.5", { ...http(), repeats: 1.5 }, false],
      ["a method not listed", http({ method: "FETCH" }), false],
      ["labels as an array", { ...http(), labels: ["a"] }, false],
      ["a header name with a space", http({ headers: { "bad header": "x" } }), false],
      ["a tcp body not base64", { target: { tcp: { addr: "127.0.0.1:9", body: "not base64!" } } }, false],
      ["a tcp address with no port", { target: { tcp: { addr: "127.0.0.1", body: "" } } }, false],
      ["a memo past 4096 characters", { ...http(), memo: "m".repeat(4097) }, false],
      ["an image starting with a dot", { target: { container: { image: ".x" } } }, false],
      ["a variable name with a dash", proc({ command: ["/bin/true"], env: { "A-B": "1" } }), false],
    ];
    for (const [what, body, accepted] of samples) {
      const r = await putJob(body);
      expect({ what, server: r.server, doc: r.doc, message: r.message }).toEqual({ what, server: accepted, doc: accepted, message: r.message });
    }
  });

  test("what a check refuses (JSON Schema cannot state it), the document accepts and describes in the server's words", async () => {
    const describedAt = (path: string[]) => path.reduce((s: Json, k) => (s.$ref ? DOC.components.schemas[s.$ref.split("/").pop()] : s)[k], DOC.components.schemas as Json) as Json;
    const samples: [unknown, string[]][] = [
      [http({ url: "ftp://127.0.0.1/x" }), ["HttpTarget", "properties", "url"]],
      [{ ...http(), timeout: "soon" }, ["JobInput", "properties", "timeout"]],
      [{ ...http(), timeout: "25d" }, ["JobInput", "properties", "timeout"]],
      [proc({ command: ["/bin/true"], cwd: "relative" }), ["ProcessTarget", "properties", "cwd"]],
      [http({ headers: { Host: "x" } }), ["HttpTarget", "properties", "headers"]],
      [{ ...http(), memo: "a\u0000b" }, ["JobInput", "properties", "memo"]],
    ];
    for (const [body, at] of samples) {
      const r = await putJob(body);
      expect({ at, server: r.server, doc: r.doc }).toEqual({ at, server: false, doc: true });
      const rule = r.message!.slice(r.field!.length + 1);
      expect(describedAt(at).description).toContain(rule);
    }
  });

  test("a trigger's body and an API key's body agree with RunParams and KeyInput", async () => {
    expect((await e.call("PUT", `/api/v1/namespaces/${NS}/jobs/p`, proc({ command: ["/bin/true"] }))).status).toBe(201);
    for (const [body, accepted] of [
      [{ env: { A: "1" }, args: ["x"] }, true],
      [{}, true],
      [{ env: { "1A": "x" } }, false],
      [{ args: "x" }, false],
      [{ argv: ["x"] }, false],
    ] as const) {
      const r = await judge("POST", `/api/v1/namespaces/${NS}/jobs/p/trigger`, "RunParams", body);
      expect({ body, server: r.server, doc: r.doc }).toEqual({ body, server: accepted, doc: accepted });
    }
    for (const [body, accepted] of [
      [{ role: "reader", namespaces: ["a", "team-*"], name: "ci", expires: "90d" }, true],
      [{ role: "admin", allNamespaces: true }, true],
      [{ role: "root", allNamespaces: true }, false],
      [{ role: "reader", namespaces: [] }, false],
      [{ role: "reader", namespaces: ["-a"] }, false],
      [{ role: "reader", allNamespaces: true, owner: "x" }, false],
    ] as const) {
      const r = await judge("POST", "/api/v1/keys", "KeyInput", body);
      expect({ body, server: r.server, doc: r.doc }).toEqual({ body, server: accepted, doc: accepted });
    }
    // Checks across fields: refused by the server, described by the document.
    const r = await judge("POST", "/api/v1/keys", "KeyInput", { role: "reader" });
    expect({ server: r.server, doc: r.doc }).toEqual({ server: false, doc: true });
    expect(DOC.components.schemas.KeyInput.description).toContain(r.message!.replace(/^body /, ""));
  });
});

describe("answers", () => {
  let e: TestEnv;
  const NS = "answers";
  const JOB = `/api/v1/namespaces/${NS}/jobs`;
  const closed = validatorOf(DOC, true);
  /** What the operations' path parameters are here: a job, a queued run, an ended (killed) run, a key. */
  const f = { job: "fx", run: 0, ended: 0, key: "", instance: 0 };
  beforeAll(async () => {
    e = await testEnv({ config: { executors: withProcesses() } });
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await e.call(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await ok("PUT", `${JOB}/fx`, { schedule: "@every 1h", target: { process: { shell: "echo hi" } }, labels: { a: "b" } });
    f.ended = (await ok("POST", `${JOB}/fx/trigger`)).id;
    await ok("POST", `/api/v1/runs/${f.ended}/kill`);
    f.run = (await ok("POST", `${JOB}/fx/trigger`, { env: { X: "1" } })).id;
    f.key = (await ok("POST", "/api/v1/keys", { role: "reader", namespaces: [NS] })).id;
    // Not started: the instance's first step stays queued, so it is running (and can be cancelled).
    await ok("PUT", `/api/v1/namespaces/${NS}/workflows/wfx`, { steps: [{ id: "a", job: "fx" }] });
    f.instance = (await ok("POST", `/api/v1/namespaces/${NS}/workflows/wfx/trigger`)).id;
  });
  afterAll(() => e.close());

  const fill = (path: string) => path.replace("{ns}", NS).replace("{name}", f.job).replace("{id}", path.includes("/keys/") ? f.key : String(f.ended));
  const documented = (op: Json, status: number) => op.responses[status] as Json | undefined;
  const schemaOf = (response: Json, type = "application/json") => {
    const r = response.$ref ? DOC.components.responses[response.$ref.split("/").pop()] : response;
    return r.content?.[type]?.schema as Json | undefined;
  };

  /** Each query parameter's values to try, with whether the server takes them, judged by the document alone. */
  function samples(schema: Json): string[] {
    if (schema.$ref) return samples(DOC.components.schemas[schema.$ref.split("/").pop()]);
    if (schema.type === "integer") return [schema.minimum - 1, schema.minimum, schema.maximum, schema.maximum + 1].map(String).concat("ten");
    if (schema.enum) return [...schema.enum, "bogus"];
    if (schema.pattern) return [];
    return [];
  }
  const PATTERN_SAMPLES: Record<string, string[]> = {
    status: ["queued", "failed,timed_out", "nope", "queued,"],
    stream: ["stdout", "stdout,tock", "out", ""],
    namespace: ["ok-ns", "-bad"],
  };

  test("each query parameter's documented bounds and values are the server's", async () => {
    let probes = 0;
    for (const [path, ops] of Object.entries(DOC.paths as Json)) {
      for (const [method, op] of Object.entries(ops as Json)) {
        for (const p of (op.parameters ?? []) as Json[]) {
          if (p.in !== "query") continue;
          const base = p.name === "spec" ? "" : "spec=%40every%201h&";
          for (const value of [...samples(p.schema), ...(PATTERN_SAMPLES[p.name] ?? [])]) {
            if (value === "") continue;
            const typed = p.schema.type === "integer" && /^-?\d+$/.test(value) ? Number(value) : value;
            const docTakes = check(p.schema, typed) === null;
            const r = await e.call(method.toUpperCase(), `${fill(path)}?${path.endsWith("/preview") ? base : ""}${p.name}=${encodeURIComponent(value)}`);
            const refused = r.status === 400 && r.body.error.field === p.name;
            expect({ route: `${method} ${path}`, param: p.name, value, refused }).toEqual({ route: `${method} ${path}`, param: p.name, value, refused: !docTakes });
            probes++;
          }
        }
      }
    }
    expect(probes).toBeGreaterThan(40);
  });

  /** A request for each operation that succeeds, in an order that leaves each one something to act on. */
  const CALLS: Record<string, () => { path: string; body?: unknown; headers?: Record<string, string> }> = {
    putJob: () => ({ path: `${JOB}/put`, body: { dueTime: "1h", target: { http: { url: "http://127.0.0.1:9/x", headers: { Authorization: "Bearer s" } } }, retry: { times: 1 } } }),
    putJobs: () => ({ path: `${JOB}:batch`, body: { jobs: [{ name: "batched", schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/x" } } }] } }),
    getJob: () => ({ path: `${JOB}/fx` }),
    listJobs: () => ({ path: `${JOB}?sort=nextFireAt` }),
    triggerJob: () => ({ path: `${JOB}/fx/trigger` }),
    pauseJob: () => ({ path: `${JOB}/put/pause` }),
    resumeJob: () => ({ path: `${JOB}/put/resume` }),
    listJobRuns: () => ({ path: `${JOB}/fx/runs` }),
    listRuns: () => ({ path: "/api/v1/runs?since=1h" }),
    getRun: () => ({ path: `/api/v1/runs/${f.run}` }),
    getRunLogs: () => ({ path: `/api/v1/runs/${f.ended}/logs` }),
    killRun: () => ({ path: `/api/v1/runs/${f.run}/kill` }),
    deleteRun: () => ({ path: `/api/v1/runs/${f.run}` }),
    listNamespaces: () => ({ path: "/api/v1/namespaces" }),
    listUpcoming: () => ({ path: "/api/v1/upcoming" }),
    previewSchedule: () => ({ path: "/api/v1/schedule/preview?spec=0%202%20*%20*%20*&timezone=Europe/London&count=3" }),
    listNodes: () => ({ path: "/api/v1/nodes" }),
    health: () => ({ path: "/healthz" }),
    readiness: () => ({ path: "/readyz" }),
    createKey: () => ({ path: "/api/v1/keys", body: { role: "writer", allNamespaces: true, expires: "1d" } }),
    listKeys: () => ({ path: "/api/v1/keys" }),
    getKey: () => ({ path: `/api/v1/keys/${f.key}` }),
    revokeKey: () => ({ path: `/api/v1/keys/${f.key}` }),
    openapi: () => ({ path: "/api/v1/openapi.json" }),
    metrics: () => ({ path: "/metrics" }),
    putWorkflow: () => ({
      path: `/api/v1/namespaces/${NS}/workflows/wf`,
      body: { overlap: "allow", steps: [{ id: "a", target: { process: { shell: "echo hi" } }, retry: { times: 1 } }, { id: "b", dependsOn: ["a"], when: "always", job: "fx", timeout: "5s" }] },
    }),
    getWorkflow: () => ({ path: `/api/v1/namespaces/${NS}/workflows/wf` }),
    listWorkflows: () => ({ path: `/api/v1/namespaces/${NS}/workflows?limit=1` }),
    triggerWorkflow: () => ({ path: `/api/v1/namespaces/${NS}/workflows/wf/trigger` }),
    listWorkflowInstances: () => ({ path: `/api/v1/namespaces/${NS}/workflows/wf/instances` }),
    getWorkflowInstance: () => ({ path: `/api/v1/workflow-instances/${f.instance}` }),
    cancelWorkflowInstance: () => ({ path: `/api/v1/workflow-instances/${f.instance}/cancel` }),
    deleteWorkflow: () => ({ path: `/api/v1/namespaces/${NS}/workflows/wf` }),
    listNotifications: () => ({ path: `/api/v1/namespaces/${NS}/notifications` }),
    deleteJob: () => ({ path: `${JOB}/put` }),
  };

  test("every operation's answer is one it documents, its body valid (no field left undocumented)", async () => {
    expect(closed(component("Health"), { status: "ok", version: "1", extra: true })).not.toBeNull(); // closed means closed
    expect(Object.keys(CALLS).sort()).toEqual(OPERATIONS.map((o) => o.operationId).sort());
    for (const [id, call] of Object.entries(CALLS)) {
      const op = OPERATIONS.find((o) => o.operationId === id)!;
      const documentedOp = DOC.paths[op.path][op.method] as Json;
      const { path, body, headers } = call();
      const r = await e.call(op.method.toUpperCase(), path, body, headers);
      const response = documented(documentedOp, r.status);
      expect({ id, status: r.status, documented: !!response }).toEqual({ id, status: r.status, documented: true });
      const schema = schemaOf(response!);
      const text = Object.keys(response!.content ?? {}).find((t) => t.startsWith("text/plain"));
      if (schema) expect({ id, errors: closed(schema, r.body) }).toEqual({ id, errors: null });
      else if (text) expect({ id, type: r.headers.get("content-type"), body: typeof r.body }).toEqual({ id, type: `${text}; charset=utf-8`, body: "string" });
      else expect({ id, body: r.body }).toEqual({ id, body: null });
      for (const h of Object.keys(response!.headers ?? {})) if (h !== "Retry-After") expect({ id, h, sent: r.headers.has(h) }).toEqual({ id, h, sent: true });
    }
  });

  test("errors come as documented: their status listed for the operation, their body the common error shape", async () => {
    const queued = (await e.call("POST", `${JOB}/fx/trigger`)).body.id;
    const cases: [string, string, string, unknown?, Record<string, string>?][] = [
      ["getJob", "GET", `${JOB}/missing`],
      ["getJob", "GET", `${JOB}/-bad`],
      ["putJob", "PUT", `${JOB}/fx`, { target: {} }],
      ["putJob", "PUT", `${JOB}/fx`, { target: { http: { url: "http://127.0.0.1:9" } } }, { "if-none-match": "*" }],
      ["putJob", "PUT", `${JOB}/fx`, "x", { "content-type": "text/plain" }],
      ["putJob", "PUT", `${JOB}/fx`, "x".repeat(e.deps.config.server.maxBody + 1)],
      ["triggerJob", "POST", `${JOB}/fx/trigger`, "{not json"],
      ["deleteRun", "DELETE", `/api/v1/runs/${queued}`],
      ["getRun", "GET", "/api/v1/runs/x1"],
      ["getRunLogs", "GET", `/api/v1/runs/${f.ended}/logs?follow=1&limit=5`],
      ["getKey", "GET", "/api/v1/keys/aaaaaaaaaaaa"],
      ["previewSchedule", "GET", "/api/v1/schedule/preview"],
    ];
    const seen = new Set<number>();
    for (const [id, method, path, body, headers] of cases) {
      const op = OPERATIONS.find((o) => o.operationId === id)!;
      const r = await e.call(method, path, body, headers);
      seen.add(r.status);
      const response = documented(DOC.paths[op.path][op.method], r.status);
      expect({ id, path, status: r.status, documented: !!response }).toEqual({ id, path, status: r.status, documented: true });
      expect({ id, errors: closed(schemaOf(response!)!, r.body) }).toEqual({ id, errors: null });
    }
    expect([...seen].sort()).toEqual([400, 404, 409, 413, 415]);
  });

  test("a run's logs followed: the server-sent events the document names", async () => {
    const r = await e.app.request(`/api/v1/runs/${f.ended}/logs?follow=1`);
    expect(r.headers.get("content-type")).toStartWith("text/event-stream");
    expect(await r.text()).toContain("event: end");
    expect(DOC.paths["/api/v1/runs/{id}/logs"].get.responses[200].content["text/event-stream"]).toBeDefined();
  });
});

describe("where keys are required", () => {
  let e: TestEnv;
  beforeAll(async () => {
    e = await testEnv({ config: { auth: { mode: "keys" } } });
  });
  afterAll(() => e.close());

  test("the document and the reference page are served without a key; everything else still needs one, as documented", async () => {
    const doc = await e.app.request("/api/v1/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.headers.get("content-type")).toStartWith("application/json");
    expect(await doc.json()).toEqual(JSON.parse(openApiJson("test").text));
    const etag = doc.headers.get("etag")!;
    expect((await e.app.request("/api/v1/openapi.json", { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await e.app.request("/api/v1/openapi.json", { method: "HEAD" })).status).toBe(200);
    expect((await e.app.request("/docs")).status).toBe(200);
    for (const op of OPERATIONS) {
      const r = await e.call(op.method.toUpperCase(), op.path.replace("{ns}", "a").replace("{name}", "b").replace("{id}", "1"));
      if (op.open) expect({ op: op.operationId, status: r.status }).not.toEqual({ op: op.operationId, status: 401 });
      else expect({ op: op.operationId, status: r.status, documented: "401" in DOC.paths[op.path][op.method].responses }).toEqual({ op: op.operationId, status: 401, documented: true });
      expect(DOC.paths[op.path][op.method].security ?? "global").toEqual(op.open ? [] : "global");
    }
  });
});
