// The outbox's deliverer on a test clock: a stored delivery is sent at once, a refused one again after 1 s,
// 2 s, 4 s… (never sooner), given up after its last attempt, and one with nothing left to send is closed.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { TestClock } from "../../src/clock.ts";
import type { Delivery, OutgoingRequest } from "../../src/domain/deliveries.ts";
import { backoffMs, Deliverer, MAX_ATTEMPTS } from "../../src/scheduler/deliveries.ts";
import { deliveriesOf, deliveriesOfEnds } from "../../src/store/deliveries.ts";
import { write } from "../../src/store/sql.ts";
import { memoryLogger, startSink, type TestEnv, testEnv, waitUntil } from "../helpers.ts";

let env: TestEnv;
let refusals = 0;
const sink = startSink(() => (refusals-- > 0 ? new Response("down", { status: 503 }) : new Response("ok")));
beforeAll(async () => {
  env = await testEnv();
  await env.deps.store.client.execute("INSERT INTO jobs (id, namespace, name, schedule_kind, target_kind, target, created_at, updated_at) VALUES (1, 'ns', 'job', 'manual', 'http', '{}', 0, 0)");
});
afterAll(async () => {
  sink.stop();
  await env.close();
});

let deliverer: Deliverer | undefined;
afterEach(async () => {
  await deliverer?.stop();
  deliverer = undefined;
});

let slot = 0;
/** A run that ended, with one pending delivery of kind "test.note" due at `at`. */
async function endedRun(at: number): Promise<number> {
  const rs = await env.deps.store.client.execute({
    sql: "INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, status, fence) VALUES (1, 'ns', 'job', ?, 0, 'manual', 'succeeded', 1) RETURNING id",
    args: [++slot],
  });
  const id = Number(rs.rows[0].id);
  await write(env.deps.store, [deliveriesOfEnds([{ runId: id, fence: 1, namespace: "ns", kinds: ["test.note"] }], at)]);
  return id;
}

function start(clock: TestClock, render: (d: Delivery) => Promise<OutgoingRequest | null>) {
  const log = memoryLogger();
  deliverer = new Deliverer({ store: env.deps.store, clock, log, executors: env.deps.executors, nodeId: "n1", renderers: { "test.note": render }, pollMs: 3_600_000 }); // the retry timers alone, no poll between
  deliverer.start();
  return { log, d: deliverer };
}

const note = (d: Delivery): OutgoingRequest => ({
  url: `${sink.url}/note`,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ run: d.runId }),
  label: "test note",
  shownUrl: `${sink.url}/note`,
  run: { id: d.runId, webhookId: String(d.runId), jobName: "job", scheduledAt: 0, attempt: 1 },
  timeoutMs: 5000,
});

describe("the deliverer", () => {
  test("a refused delivery is sent again after 1 s, then 2 s, never sooner, until it is taken", async () => {
    const clock = new TestClock(10_000);
    const runId = await endedRun(10_000);
    refusals = 2;
    const before = sink.requests.length;
    const { log, d } = start(clock, async (x) => note(x));
    await d.idle();
    expect(sink.requests.length - before).toBe(1);
    clock.advance(backoffMs(1) - 1);
    await d.idle();
    expect(sink.requests.length - before).toBe(1); // not sooner than its backoff
    clock.advance(1);
    await d.idle();
    expect(sink.requests.length - before).toBe(2);
    clock.advance(backoffMs(2));
    await d.idle();
    expect(sink.requests.length - before).toBe(3);
    expect((await deliveriesOf(env.deps.store, runId)).map((x) => [x.status, x.attempts])).toEqual([["delivered", 3]]);
    expect(sink.requests.at(-1)!.headers["webhook-id"]).toBe(String(runId));
    expect(log.lines.filter((l) => l.msg === "test note failed").map((l) => [l.attempt, l.retryInMs])).toEqual([
      [1, 1000],
      [2, 2000],
    ]);
  });

  test(`a delivery refused ${MAX_ATTEMPTS} times is given up`, async () => {
    const clock = new TestClock(100_000);
    const runId = await endedRun(100_000);
    refusals = Number.POSITIVE_INFINITY;
    const { log, d } = start(clock, async (x) => note(x));
    await d.idle();
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      clock.advance(backoffMs(attempt));
      await d.idle();
    }
    refusals = 0;
    expect((await deliveriesOf(env.deps.store, runId)).map((x) => [x.status, x.attempts, x.lastError])).toEqual([["failed", MAX_ATTEMPTS, "HTTP 503"]]);
    const failures = log.lines.filter((l) => l.msg === "test note failed");
    expect(failures).toHaveLength(MAX_ATTEMPTS);
    expect(failures.at(-1)!.retryInMs).toBeNull();
    clock.advance(60 * 60_000);
    await d.idle();
    expect(log.lines.filter((l) => l.msg === "test note failed")).toHaveLength(MAX_ATTEMPTS); // nothing after
  });

  test("a delivery with nothing left to send (its run or job removed) is dropped without a request", async () => {
    const clock = new TestClock(200_000);
    const runId = await endedRun(200_000);
    const before = sink.requests.length;
    const { d } = start(clock, async () => null);
    await d.idle();
    expect(sink.requests.length).toBe(before);
    expect(await deliveriesOf(env.deps.store, runId)).toEqual([]);
  });

  test("a delivery being sent is not taken again by wake-ups meanwhile; a stop cuts it short and puts it back", async () => {
    const clock = new TestClock(300_000);
    const runId = await endedRun(300_000);
    let release = () => {};
    const slow = startSink(() => new Promise<Response>((r) => (release = () => r(new Response("ok")))));
    try {
      const before = slow.requests.length;
      const { d } = start(clock, async (x) => ({ ...note(x), url: `${slow.url}/slow` }));
      await waitUntil(() => slow.requests.length > before, "the send", 5000);
      for (let i = 0; i < 5; i++) d.wake();
      await new Promise((r) => setTimeout(r, 100));
      expect(slow.requests.length - before).toBe(1);
      await d.stop(); // the receiver has not answered: not delivered, not an attempt
      expect((await deliveriesOf(env.deps.store, runId)).map((x) => [x.status, x.attempts])).toEqual([["pending", 0]]);
      const [row] = (await env.deps.store.client.execute({ sql: "SELECT node_id, lease_until FROM deliveries WHERE run_id = ?", args: [runId] })).rows;
      expect([row.node_id, row.lease_until]).toEqual([null, null]); // any node may take it at once
    } finally {
      release();
      slow.stop();
    }
  });
});
