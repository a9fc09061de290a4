// How many claimed runs a node holds in memory: runs still to come, up to max_held (a burst is held whole,
// ready for its instant); a backlog of runs already due, only a few batches deep (they wait for capacity,
// not for their time, and the rest wait in the database until these have gone).
import { afterAll, expect, test } from "bun:test";
import { putJobs } from "../../src/domain/job-batch.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, testEnv } from "../helpers.ts";

let release!: () => void;
const answered = new Promise<void>((r) => (release = r));
// A receiver that holds every request until released: the runs in flight stay in flight.
const hanging = startSink(async () => {
  await answered;
  return new Response("ok");
});
afterAll(() => {
  hanging.stop();
});

// floor = max(4 × batch_size, 2 × max_in_flight) = 40
const scheduler = { batchSize: 10, maxInFlight: 5, maxHeld: 1000, pollInterval: 3_600_000, lookahead: 60_000 };
const jobs = (n: number, dueTime: string) => ({ jobs: Array.from({ length: n }, (_, i) => ({ name: `j-${i}`, dueTime, target: { http: { url: hanging.url } } })) });
const claimed = async (env: Awaited<ReturnType<typeof testEnv>>) => Number((await read(env.deps.store, "SELECT count(*) AS n FROM runs"))[0].n);

test("a backlog of due runs is claimed a few batches deep, not up to max_held", async () => {
  const env = await testEnv({ config: { scheduler }, start: true });
  try {
    await putJobs(env.deps, "ns", jobs(300, new Date(Date.now() - 1000).toISOString()));
    for (let i = 0; i < 5; i++) await env.deps.scheduler.tick();
    await hanging.waitFor(5);
    // Held (at most the floor plus the batch that reached it), marked and waiting for capacity (at most
    // max_in_flight), in flight (max_in_flight).
    const n = await claimed(env);
    expect(n).toBeGreaterThanOrEqual(40);
    expect(n).toBeLessThanOrEqual(40 + 10 + 5 + 5);
  } finally {
    release(); // (the runs in flight end, so the node stops at once)
    await env.close();
  }
});

test("runs still to come are held up to max_held, ahead of their time", async () => {
  const env = await testEnv({ config: { scheduler }, start: true });
  try {
    await putJobs(env.deps, "ns", jobs(300, new Date(Date.now() + 30_000).toISOString()));
    await env.deps.scheduler.tick();
    expect(await claimed(env)).toBe(300);
  } finally {
    await env.close();
  }
});
