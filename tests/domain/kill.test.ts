// Killing a run that runs on this node: the verb waits on the run's end as the scheduler reports it, not by
// reading the run again and again (a stubborn process takes its whole kill grace to end).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { killRun } from "../../src/domain/kill.ts";
import { type TestEnv, testEnv, waitUntil, withProcesses } from "../helpers.ts";

let env: TestEnv;
beforeAll(async () => {
  env = await testEnv({ start: true, config: { executors: withProcesses({ killGrace: 600 }), scheduler: { pollInterval: 200 } } });
});
afterAll(() => env.close());

test("a kill of a run on this node returns once the run has ended, reading it once", async () => {
  // Ignores SIGTERM: it ends only at SIGKILL, after the kill grace.
  const put = await env.call("PUT", "/api/v1/namespaces/k/jobs/stubborn", { target: { process: { command: ["/bin/sh", "-c", "trap '' TERM; sleep 30 & wait"] } } });
  expect(put.status).toBe(201);
  const run = (await env.call("POST", "/api/v1/namespaces/k/jobs/stubborn/trigger")).body;
  await waitUntil(async () => (await env.call("GET", `/api/v1/runs/${run.id}`)).body.status === "running", "the run running", 10_000);

  const sql = env.deps.store.sql;
  const execute = sql.execute.bind(sql);
  let reads = 0;
  let before = 0;
  sql.execute = (stmt) => {
    const text = typeof stmt === "string" ? stmt : stmt.sql;
    if (/FROM runs WHERE id = \?/.test(text)) reads++;
    if (/FROM runs AS r LEFT JOIN jobs/.test(text)) before++; // where it stands, before the kill (its notifications)
    return execute(stmt);
  };
  const started = performance.now();
  try {
    const result = await killRun(env.deps, run.id);
    expect(result.ended).toBe(true);
    expect(result.run).toMatchObject({ id: run.id, status: "killed" });
  } finally {
    sql.execute = execute;
  }
  expect(performance.now() - started).toBeGreaterThanOrEqual(500); // it did wait out the grace
  expect(reads).toBe(1); // the final read; a 25 ms poll would have read it some twenty times
  expect(before).toBe(1);
});
