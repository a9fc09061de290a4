// The heartbeat's takeover rule, this node's beats driven by a test clock: a node silent for node_timeout
// (by the database's clock, which every node's heartbeat is written in) is dead and its runs are released
// at once, but only once this node has itself beaten on time for a whole node_timeout, so that a stall
// everyone shared (a locked database, this node frozen) takes nobody for dead.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import { read, write } from "../../src/store/sql.ts";
import { memoryLogger, type TestEnv, testEnv } from "../helpers.ts";

const clock = new TestClock(Date.now());
const log = memoryLogger();
let env: TestEnv;
let jobId: number;
beforeAll(async () => {
  env = await testEnv({ clock, log, start: true, config: { scheduler: { heartbeat: 1000, nodeTimeout: 5000 } } });
  const put = await env.call("PUT", "/api/v1/namespaces/t/jobs/later", { dueTime: new Date(clock.now() + 3_600_000).toISOString(), target: { http: { url: "http://127.0.0.1:9/" } } });
  jobId = Number(put.body.id);
});
afterAll(() => env.close());

/** Another node, silent for `silentMs` by the database's clock, holding a queued run with a lease an hour long. */
async function ghost(id: string, silentMs: number) {
  const t = clock.now();
  const at = `CAST(unixepoch('subsec') * 1000 AS INTEGER) - ${silentMs}`;
  await write(env.deps.store, [
    { sql: `INSERT INTO nodes (id, started_at, heartbeat_at, version) VALUES (?, ${at}, ${at}, 'test')`, args: [id] },
    {
      sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, node_id, lease_until, fence)
            VALUES (?, 't', 'later', ?, ?, 'manual', 1, 'queued', ?, ?, 1)`,
      args: [jobId, t + 3_600_000, t + 3_600_000, id, t + 3_600_000],
    },
  ]);
}

const holder = async (id: string) => (await read(env.deps.store, { sql: "SELECT count(*) AS n FROM runs WHERE node_id = ?", args: [id] }))[0].n;
const present = async (id: string) => (await read(env.deps.store, { sql: "SELECT id FROM nodes WHERE id = ?", args: [id] })).length === 1;

async function beats(n: number, step = 1000) {
  for (let i = 0; i < n; i++) {
    clock.advance(step);
    await env.deps.scheduler.beat();
  }
}

test("a node silent for node_timeout is taken for dead once this node has beaten on time that long: its runs are released and its row goes", async () => {
  await ghost("g1", 10_000);
  await beats(4); // on time for 4 s of the 5
  expect(await present("g1")).toBe(true);
  expect(await holder("g1")).toBe(1);
  await beats(1);
  expect(await present("g1")).toBe(false);
  expect(await holder("g1")).toBe(0);
  const took = log.lines.find((l) => l.msg === "took over the runs of nodes with no heartbeat within node_timeout");
  expect(took).toMatchObject({ level: "warn", nodes: ["g1"], lostInFlight: 0 });
});

test("a node whose heartbeat is recent by the database's clock is alive, however far this node's clock runs ahead", async () => {
  await ghost("g3", 1000);
  clock.advance(60_000); // this node's clock a minute ahead (max_clock_skew is off in this test)
  await beats(6);
  expect(await present("g3")).toBe(true);
  expect(await holder("g3")).toBe(1);
  await write(env.deps.store, [{ sql: "DELETE FROM runs WHERE node_id = 'g3'", args: [] }, { sql: "DELETE FROM nodes WHERE id = 'g3'", args: [] }]);
});

test("after a stall this node shared (its own beat came late), nobody is taken for dead until it has beaten on time for node_timeout again", async () => {
  // Ten seconds pass while a beat is still under way (the database was locked for everyone, or this node
  // was frozen): the next beat that goes through comes 10 s after the last one, and restarts the record.
  await beats(1, 10_000);
  await beats(1); // the late beat
  await ghost("g2", 10_000); // silent for 10 s by the database's clock: dead, but not yet to this node
  await beats(4);
  expect(await present("g2")).toBe(true);
  await beats(1);
  expect(await present("g2")).toBe(false);
  expect(await present("test-node")).toBe(true);
});
