// POST /api/v1/namespaces/{ns}/jobs:batch: many jobs created or replaced in one transaction, each checked as a
// PUT checks it; one refused item refuses the batch, naming every refused item, and writes nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { read } from "../../src/store/sql.ts";
import { type TestEnv, testEnv } from "../helpers.ts";

const target = { http: { url: "http://127.0.0.1:9/x" } };
let env: TestEnv;
const batch = (ns: string, jobs: unknown, headers?: Record<string, string>) => env.call("POST", `/api/v1/namespaces/${ns}/jobs:batch`, { jobs }, headers);
const count = async (ns: string) => Number((await read(env.deps.store, { sql: "SELECT count(*) AS n FROM jobs WHERE namespace = ?", args: [ns] }))[0].n);
/** A job as GET shows it, less what differs between two namespaces and two writes (an @every job's next fire follows its write). */
const comparable = (j: Record<string, unknown>) => {
  const { id: _i, namespace: _n, createdAt: _c, updatedAt: _u, ...rest } = j;
  if (rest.scheduleKind === "every") delete rest.nextFireAt;
  return rest;
};

beforeAll(async () => {
  env = await testEnv({ config: { limits: { maxJobs: 50 } as never } });
});
afterAll(() => env.close());

describe("a batch", () => {
  test("creates its jobs as single PUTs would, in the order given", async () => {
    const jobs = [
      { name: "nightly", schedule: "30 2 * * *", timezone: "America/New_York", target, retry: { times: 2, interval: "10s" } },
      { name: "every", schedule: "@every 1h", target: { http: { ...target.http, headers: { "x-a": "1" } } }, payload: { a: 1 } },
      { name: "manual", target, memo: "m" },
    ];
    const r = await batch("b1", jobs);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ created: 3, replaced: 0 });
    expect(r.body.items.map((i: { name: string; created: boolean; version: number }) => [i.name, i.created, i.version])).toEqual([["nightly", true, 1], ["every", true, 1], ["manual", true, 1]]);
    for (const { name, ...body } of jobs) {
      expect((await env.call("PUT", `/api/v1/namespaces/single/jobs/${name}`, body)).status).toBe(201);
      const [batched, single] = await Promise.all([env.call("GET", `/api/v1/namespaces/b1/jobs/${name}`), env.call("GET", `/api/v1/namespaces/single/jobs/${name}`)]);
      expect(comparable(batched.body)).toEqual(comparable(single.body));
      expect(r.body.items.find((i: { name: string }) => i.name === name).nextFireAt).toBe(batched.body.nextFireAt);
    }
    expect((await env.call("GET", "/api/v1/namespaces")).body.items).toContainEqual({ namespace: "b1", jobs: 3 });
  });

  test("replaces jobs that exist: a new version, the fired count reset, their queued runs dropped", async () => {
    const run = (await env.call("POST", "/api/v1/namespaces/b1/jobs/manual/trigger")).body;
    expect(run.status).toBe("queued");
    const r = await batch("b1", [{ name: "manual", target, memo: "changed" }, { name: "fresh", target }]);
    expect(r.body).toMatchObject({ created: 1, replaced: 1 });
    expect((await env.call("GET", "/api/v1/namespaces/b1/jobs/manual")).body).toMatchObject({ memo: "changed", version: 2 });
    expect((await env.call("GET", `/api/v1/runs/${run.id}`)).status).toBe(404);
    expect((await env.call("GET", "/api/v1/namespaces")).body.items).toContainEqual({ namespace: "b1", jobs: 4 });
  });

  test("takes back what a GET of a job answered, as PUT does", async () => {
    const got = (await env.call("GET", "/api/v1/namespaces/b1/jobs/nightly")).body;
    const r = await batch("b1", [got]);
    expect(r.status).toBe(200);
    expect(r.body.items[0]).toMatchObject({ name: "nightly", version: 2, created: false });
    expect(comparable((await env.call("GET", "/api/v1/namespaces/b1/jobs/nightly")).body)).toEqual({ ...comparable(got), version: 2 });
  });
});

describe("refused, writing nothing", () => {
  test("one bad job refuses the batch; every bad one is named with its place, name and field", async () => {
    const r = await batch("b2", [
      { name: "good", schedule: "@every 1h", target },
      { name: "typo", schedule: "every 10s", target },
      { schedule: "@every 1h", target },
      { name: "good", target },
      { name: "-bad", target },
      { name: "nourl", target: { http: {} } },
      "not a job",
    ]);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(r.body.error.field).toBe("jobs");
    expect(r.body.error.message).toStartWith('6 of 7 jobs refused, nothing written; the first, jobs[1] (typo): schedule: "every 10s" is not a schedule; did you mean "@every 10s"?');
    expect(r.body.error.items).toEqual([
      { index: 1, name: "typo", field: "schedule", message: 'schedule: "every 10s" is not a schedule; did you mean "@every 10s"?' },
      { index: 2, field: "name", message: "each job needs its name (a string)" },
      { index: 3, name: "good", field: "name", message: "good is job 0 of this batch already" },
      { index: 4, name: "-bad", field: "name", message: expect.stringContaining("name must be 1-200 characters") },
      { index: 5, name: "nourl", field: "target.http.url", message: expect.any(String) },
      { index: 6, field: "name", message: "each job needs its name (a string)" },
    ]);
    expect(await count("b2")).toBe(0);
  });

  test("a body that is no batch, an empty one, one too large: 400 naming jobs", async () => {
    for (const body of [{}, { jobs: {} }, { jobs: [] }, { jobs: Array.from({ length: 10_001 }, (_, i) => ({ name: `j${i}`, target })) }, [1]]) {
      const r = await env.call("POST", "/api/v1/namespaces/b3/jobs:batch", body);
      expect({ status: r.status, field: r.body.error.field }).toEqual({ status: 400, field: "jobs" });
    }
    expect((await env.call("POST", "/api/v1/namespaces/-bad/jobs:batch", { jobs: [{ name: "a", target }] })).status).toBe(400);
    const extra = await env.call("POST", "/api/v1/namespaces/b3/jobs:batch", { jobs: [{ name: "a", target }], atomic: false });
    expect({ status: extra.status, field: extra.body.error.field }).toEqual({ status: 400, field: "atomic" });
    expect(await count("b3")).toBe(0);
  });

  test("past the namespace's max_jobs: 403, nothing written (replacing jobs needs no room)", async () => {
    const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ name: `q${from + i}`, target }));
    expect((await batch("b4", many(45))).status).toBe(200);
    const r = await batch("b4", many(10, 40)); // 5 replaced, 5 new: 50, the limit
    expect(r.body).toMatchObject({ created: 5, replaced: 5 });
    const over = await batch("b4", many(2, 50));
    expect(over.status).toBe(403);
    expect(over.body.error.message).toContain("holds 50 jobs and this batch adds 2");
    expect(await count("b4")).toBe(50);
    expect((await batch("b4", many(50))).status).toBe(200); // all replaced
  });

  test("a body larger than [server] max_batch_body: 413; a single PUT keeps max_body", async () => {
    const small = await testEnv({ config: { server: { maxBatchBody: 2048 } as never } });
    try {
      const jobs = Array.from({ length: 40 }, (_, i) => ({ name: `j${i}`, target }));
      const r = await small.call("POST", "/api/v1/namespaces/b5/jobs:batch", { jobs });
      expect(r.status).toBe(413);
      expect(r.body.error.message).toContain("max_batch_body");
      expect((await small.call("POST", "/api/v1/namespaces/b5/jobs:batch", { jobs: jobs.slice(0, 2) })).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
