// The outbox table: deliveries are written with the end of their run (and only when the run's fence held),
// taken by one node at a time under a lease, and recorded as delivered, retried or given up.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/client.ts";
import {
  deliveriesOf,
  deliveriesOfEnds,
  deliveriesOfEndedRun,
  deliveriesOfKilledAtStop,
  nextDeliveryAt,
  recordAttempt,
  releaseDeliveries,
  takeDeliveries,
} from "../../src/store/deliveries.ts";
import { deleteRuns } from "../../src/store/pruning.ts";
import { deleteFinishedRun } from "../../src/store/runs.ts";
import { write } from "../../src/store/sql.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-store-outbox-");
let store: Store;
let runs = 0;
beforeAll(async () => {
  store = await openStore({ url: `file:${join(dir, "tock.db")}` });
  await store.client.execute(`INSERT INTO jobs (namespace, name, schedule_kind, target_kind, target, created_at, updated_at, on_end)
    VALUES ('ns', 'with', 'manual', 'http', '{}', 0, 0, '["a.callback","b.note"]'), ('ns', 'without', 'manual', 'http', '{}', 0, 0, NULL)`);
});
afterAll(() => {
  store.close();
  cleanup();
});

/** A run of job `job` (1: with deliveries, 2: without) in `status`, at fence 3. */
async function run(job: number, status: string): Promise<number> {
  const rs = await store.client.execute({
    sql: "INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, status, fence) VALUES (?, 'ns', 'x', ?, 0, 'manual', ?, 3) RETURNING id",
    args: [job, ++runs, status],
  });
  return Number(rs.rows[0].id);
}

describe("writing deliveries", () => {
  test("with a recorded end: one row per kind, pending and due at once; none where the fence moved", async () => {
    const held = await run(1, "succeeded");
    const lost = await run(1, "succeeded");
    await write(store, [
      deliveriesOfEnds(
        [
          { runId: held, fence: 3, namespace: "ns", kinds: ["a.callback", "b.note"] },
          { runId: lost, fence: 2, namespace: "ns", kinds: ["a.callback"] },
        ],
        100,
      ),
    ]);
    expect((await deliveriesOf(store, held)).map((d) => [d.kind, d.status, d.attempts, d.dueAt])).toEqual([
      ["a.callback", "pending", 0, 100],
      ["b.note", "pending", 0, 100],
    ]);
    expect(await deliveriesOf(store, lost)).toEqual([]);
  });

  test("for a run a statement just ended (a kill, an unstarted end): from its job's on_end, only if that statement changed it", async () => {
    const queued = await run(1, "queued");
    const ended = await run(1, "lost"); // ended long ago: a kill request now changes nothing
    const plain = await run(2, "queued");
    const kill = (id: number) => ({ sql: "UPDATE runs SET status = 'killed', ended_at = 200 WHERE id = ? AND status = 'queued'", args: [id] });
    for (const id of [queued, ended, plain]) await write(store, [kill(id), deliveriesOfEndedRun(id, 200)]);
    await write(store, [kill(queued), deliveriesOfEndedRun(queued, 300)]); // twice: no second row
    expect((await deliveriesOf(store, queued)).map((d) => [d.kind, d.dueAt])).toEqual([
      ["a.callback", 200],
      ["b.note", 200],
    ]);
    expect(await deliveriesOf(store, ended)).toEqual([]);
    expect(await deliveriesOf(store, plain)).toEqual([]); // its job asks for none
  });

  test("for runs a stopping node ended killed: only those it ended so, now", async () => {
    const killed = await run(1, "running");
    const requeued = await run(1, "running");
    const other = await run(1, "killed");
    await store.client.execute({ sql: "UPDATE runs SET node_id = 'n1' WHERE id IN (?, ?, ?)", args: [killed, requeued, other] });
    await write(store, [
      { sql: "UPDATE runs SET status = 'killed', ended_at = 400 WHERE id = ?", args: [killed] },
      { sql: "UPDATE runs SET status = 'queued' WHERE id = ?", args: [requeued] },
      deliveriesOfKilledAtStop([killed, requeued, other], "n1", 400),
    ]);
    expect((await deliveriesOf(store, killed)).map((d) => d.kind)).toEqual(["a.callback", "b.note"]);
    expect(await deliveriesOf(store, requeued)).toEqual([]);
    expect(await deliveriesOf(store, other)).toEqual([]);
  });
});

describe("sending deliveries", () => {
  test("a due delivery is taken by one node, not again while it sends, by another once its lease lapses or it is put back", async () => {
    await store.client.execute("DELETE FROM deliveries");
    const r = await run(1, "succeeded");
    await write(store, [deliveriesOfEnds([{ runId: r, fence: 3, namespace: "ns", kinds: ["a.callback"] }], 1000)]);
    expect(await nextDeliveryAt(store)).toBe(1000);
    expect(await takeDeliveries(store, "n1", 999, 5000, 10)).toEqual([]); // not due yet
    const [taken] = await takeDeliveries(store, "n1", 1000, 5000, 10);
    expect(taken).toMatchObject({ runId: r, kind: "a.callback", namespace: "ns", attempts: 0 });
    expect(await takeDeliveries(store, "n2", 2000, 9000, 10)).toEqual([]); // n1 holds it
    expect(await takeDeliveries(store, "n1", 2000, 9000, 10)).toEqual([]); // n1 is sending it
    expect(await takeDeliveries(store, "n2", 5001, 12000, 10)).toHaveLength(1); // n1's lease lapsed (n1 died)
    await releaseDeliveries(store, "n2"); // n2 restarts, or stops before sending
    expect(await takeDeliveries(store, "n1", 5002, 15000, 10)).toHaveLength(1);
  });

  test("an attempt is recorded by its holder only: retried later, given up, or delivered", async () => {
    await store.client.execute("DELETE FROM deliveries");
    const r = await run(1, "succeeded");
    await write(store, [deliveriesOfEnds([{ runId: r, fence: 3, namespace: "ns", kinds: ["a.callback", "b.note"] }], 0)]);
    const [a, b] = await takeDeliveries(store, "n1", 0, 60_000, 10);
    expect(await recordAttempt(store, a.id, "n2", { delivered: true, at: 5 })).toBe(false); // not n2's
    expect(await recordAttempt(store, a.id, "n1", { delivered: false, at: 5, error: "503", retryAt: 1005 })).toBe(true);
    expect(await nextDeliveryAt(store)).toBe(0); // b is still due
    expect(await recordAttempt(store, b.id, "n1", { delivered: false, at: 6, error: "refused", retryAt: null })).toBe(true);
    expect(await nextDeliveryAt(store)).toBe(1005);
    const [again] = await takeDeliveries(store, "n2", 1005, 70_000, 10);
    expect(again).toMatchObject({ id: a.id, attempts: 1, lastError: "503" });
    expect(await recordAttempt(store, again.id, "n2", { delivered: true, at: 1010 })).toBe(true);
    expect(await recordAttempt(store, again.id, "n2", { delivered: true, at: 1011 })).toBe(false); // once
    expect((await deliveriesOf(store, r)).map((d) => [d.kind, d.status, d.attempts, d.lastError])).toEqual([
      ["a.callback", "delivered", 2, null],
      ["b.note", "failed", 1, "refused"],
    ]);
    expect(await nextDeliveryAt(store)).toBeNull();
  });
});

describe("deleting runs", () => {
  test("a run's deliveries go with it, pruned or deleted, sent or not (one could say nothing of a run that is gone)", async () => {
    await store.client.execute("DELETE FROM deliveries");
    const pruned = await run(1, "succeeded");
    const deleted = await run(1, "failed");
    const kept = await run(1, "failed");
    await write(store, [deliveriesOfEnds([pruned, deleted, kept].map((id) => ({ runId: id, fence: 3, namespace: "ns", kinds: ["a.callback", "b.note"] })), 0)]);
    const taken = await takeDeliveries(store, "n1", 0, 60_000, 10);
    for (const d of taken.filter((x) => x.kind === "a.callback")) await recordAttempt(store, d.id, "n1", { delivered: true, at: 1 });
    expect(await deleteRuns(store, [pruned], null)).toBe(1);
    expect(await deleteFinishedRun(store, deleted)).toBe(true);
    const left = await store.client.execute("SELECT run_id, kind, status FROM deliveries ORDER BY run_id, kind");
    expect(left.rows.map((r) => [Number(r.run_id), r.kind, r.status])).toEqual([
      [kept, "a.callback", "delivered"],
      [kept, "b.note", "pending"],
    ]);
  });
});
