// History retention: which runs a pass deletes (exact survivors), in bounded writes, without holding the event
// loop, on a timer driven by the test clock. A real database file per test, rows inserted with plain SQL.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Config } from "../../src/config/schema.ts";
import type { Logger } from "../../src/log.ts";
import { type Clock, TestClock } from "../../src/clock.ts";
import { Pruner } from "../../src/scheduler/pruner.ts";
import { openStore, type Store } from "../../src/store/client.ts";
import { read, write } from "../../src/store/sql.ts";
import { tempDir } from "../helpers.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const { dir, cleanup } = tempDir("tock-prune-");
const stores: Store[] = [];
afterAll(() => {
  for (const s of stores) s.close();
  cleanup();
});

let dbs = 0;
async function freshStore(file = `p${++dbs}.db`): Promise<Store> {
  const store = await openStore({ url: `file:${join(dir, file)}` });
  stores.push(store);
  return store;
}

type History = Config["history"];
const history = (h: Partial<History>): History => ({ keepPerJob: 0, maxAge: 0, pruneInterval: MIN, pruneBatch: 500, ...h });

function recordingLog() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, fields });
  const log: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { log, lines, passes: () => lines.filter((l) => l.msg === "history pruned").length };
}

function pruner(store: Store, clock: Clock, h: Partial<History>, log = recordingLog().log) {
  return new Pruner({ store, clock, log, config: history(h) });
}

async function addJobs(store: Store, ...ids: number[]) {
  await write(
    store,
    ids.map((id) => ({
      sql: "INSERT INTO jobs (id, namespace, name, schedule_kind, target_kind, target, created_at, updated_at) VALUES (?, 'ns', ?, 'manual', 'http', '{}', 0, 0)",
      args: [id, `job-${id}`],
    })),
  );
}

interface RunSpec {
  job: number;
  /** The slot; due defaults to it. */
  at: number;
  attempt?: number;
  status?: string;
  /** Defaults to `at + 1s` for finished runs, null for queued and running. */
  ended?: number | null;
  due?: number;
  trigger?: string;
  /** Log lines to attach (default 2). */
  logs?: number;
}

/** Inserts runs in the given order (ids grow with it) with their log lines; returns their ids. */
async function addRuns(store: Store, specs: RunSpec[]): Promise<number[]> {
  const ids: number[] = [];
  for (const r of specs) {
    const status = r.status ?? "succeeded";
    const inFlight = status === "queued" || status === "running";
    const ended = r.ended !== undefined ? r.ended : inFlight ? null : r.at + 1000;
    const [res] = await write(store, [
      {
        sql: `INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, ended_at)
              VALUES (?, 'ns', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        args: [r.job, `job-${r.job}`, r.at, r.due ?? r.at, r.trigger ?? (r.attempt && r.attempt > 1 ? "retry" : "schedule"), r.attempt ?? 1, status, ended],
      },
    ]);
    const id = Number(res.rows[0].id);
    ids.push(id);
    for (let seq = 1; seq <= (r.logs ?? 2); seq++) {
      await write(store, [{ sql: "INSERT INTO run_logs (run_id, seq, at, stream, line) VALUES (?, ?, ?, 'stdout', 'x')", args: [id, seq, r.at] }]);
    }
  }
  return ids;
}

const runIds = async (store: Store) => (await read(store, "SELECT id FROM runs ORDER BY id")).map((r) => Number(r.id));
const logRunIds = async (store: Store) => (await read(store, "SELECT DISTINCT run_id FROM run_logs ORDER BY run_id")).map((r) => Number(r.run_id));
const without = (all: number[], gone: number[]) => all.filter((id) => !gone.includes(id));

/** A Clock over `clock` that knows which of its timers are still armed. */
function watchedClock(clock: TestClock) {
  const armed = new Set<number>();
  const watched: Clock = {
    now: () => clock.now(),
    setTimer(ms, fn) {
      const handle = clock.setTimer(ms, () => {
        armed.delete(handle.id);
        fn();
      });
      armed.add(handle.id);
      return handle;
    },
    clearTimer(handle) {
      armed.delete(handle.id);
      clock.clearTimer(handle);
    },
  };
  return { clock: watched, armed };
}

/** Counts reads and writes, and the runs each write removed; `failWrites` rejects that many writes first. */
function instrument(store: Store, opts: { failWrites?: number; gate?: () => Promise<void>; beforeWrite?: () => Promise<void> } = {}) {
  const real = store.sql;
  const seen = { reads: 0, writes: 0, deletedPerWrite: [] as number[] };
  let failures = opts.failWrites ?? 0;
  const count = async () => Number((await real.execute("SELECT count(*) AS n FROM runs")).rows[0].n);
  store.sql = {
    async execute(stmt) {
      seen.reads++;
      await opts.gate?.();
      return real.execute(stmt);
    },
    async write(stmts) {
      if (failures > 0) {
        failures--;
        throw new Error("injected write failure");
      }
      await opts.beforeWrite?.();
      const before = await count();
      const out = await real.write(stmts);
      seen.writes++;
      seen.deletedPerWrite.push(before - (await count()));
      return out;
    },
  };
  return { seen, restore: () => (store.sql = real) };
}

test("max_age deletes finished runs that ended before the cutoff, with their logs, and keeps queued and running ones however old", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const now = clock.now();
  await addJobs(store, 1, 2);
  const old = now - 10 * DAY;
  const ids = await addRuns(store, [
    { job: 1, at: old, status: "succeeded" }, // 1 goes
    { job: 1, at: old + 1, status: "queued" }, // 2 stays: in flight
    { job: 1, at: old + 2, status: "running" }, // 3 stays: in flight
    { job: 2, at: old + 3, status: "failed" }, // 4 goes
    { job: 2, at: old + 4, status: "timed_out" }, // 5 goes
    { job: 2, at: old + 5, status: "killed" }, // 6 goes
    { job: 2, at: old + 6, status: "lost" }, // 7 goes
    { job: 1, at: old + 7, status: "succeeded", ended: now - HOUR }, // 8 stays: ran long, ended recently
    { job: 99, at: old + 8, status: "skipped" }, // 9 goes: of a job that no longer exists
    { job: 1, at: now - DAY - MIN, status: "succeeded" }, // 10 goes: just past a day
    { job: 1, at: now - DAY + MIN, status: "succeeded" }, // 11 stays: just within
    { job: 1, at: now - MIN, status: "succeeded" }, // 12 stays
    { job: 1, at: now, status: "queued" }, // 13 stays
  ]);
  const gone = [ids[0], ids[3], ids[4], ids[5], ids[6], ids[8], ids[9]];
  const result = await pruner(store, clock, { maxAge: DAY, pruneBatch: 3 }).pruneOnce();
  expect(result).toEqual({ runs: 7, logs: 14 });
  expect(await runIds(store)).toEqual(without(ids, gone));
  expect(await logRunIds(store)).toEqual(without(ids, gone));
  // A second pass (or another node's) finds nothing more.
  expect(await pruner(store, clock, { maxAge: DAY }).pruneOnce()).toEqual({ runs: 0, logs: 0 });
});

test("max_age walks past a queued retry due after the cutoff, and stops at the first runs due after it", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const now = clock.now();
  await addJobs(store, 1);
  // A retry inserted when its slot failed 3 h ago, due in an hour; runs finished after it are still old.
  const head = await addRuns(store, [
    { job: 1, at: now - 3 * HOUR, status: "failed" },
    { job: 1, at: now - 3 * HOUR, attempt: 2, due: now + HOUR, status: "queued" },
    { job: 1, at: now - 2 * HOUR - MIN, status: "succeeded" },
    { job: 1, at: now - 2 * HOUR, status: "succeeded" },
  ]);
  await write(store, [
    {
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, ended_at)
            SELECT 1, 'ns', 'job-1', ? + i, ? + i, 'schedule', 1, 'succeeded', ? + i + 1 FROM n`,
      args: [now - HOUR, now - HOUR, now - HOUR],
    },
  ]);
  const { seen } = instrument(store);
  const result = await pruner(store, clock, { maxAge: 90 * MIN, pruneBatch: 2 }).pruneOnce();
  const reads = seen.reads;
  expect(result.runs).toBe(3);
  const left = await runIds(store);
  expect(left.slice(0, 2)).toEqual([head[1], head[3] + 1]);
  expect(left).toHaveLength(3001);
  // Windows of 2 over 3004 rows: the walk read three windows, not 1500.
  expect(reads).toBe(3);
});

test("keep_per_job keeps exactly the newest N runs of each job by slot then attempt, and leaves other jobs alone", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const t = clock.now() - DAY;
  await addJobs(store, 1, 2, 3);
  const ids = await addRuns(store, [
    { job: 1, at: t + 1 }, // 0  j1 slot1
    { job: 1, at: t + 2 }, // 1  j1 slot2
    { job: 2, at: t + 1 }, // 2  j2
    { job: 1, at: t + 3, status: "failed" }, // 3  j1 slot3 attempt1
    { job: 1, at: t + 4 }, // 4  j1 slot4
    { job: 1, at: t + 3, attempt: 2, status: "failed" }, // 5  j1 slot3 attempt2 (retry, inserted after slot4)
    { job: 1, at: t + 3, attempt: 3 }, // 6  j1 slot3 attempt3
    { job: 1, at: t + 5, status: "queued" }, // 7  j1 slot5
    { job: 3, at: t + 1, status: "running" }, // 8  j3: its oldest is still running
    { job: 3, at: t + 2 }, // 9
    { job: 3, at: t + 3 }, // 10
    { job: 3, at: t + 4 }, // 11
    { job: 3, at: t + 5 }, // 12
    { job: 3, at: t + 6 }, // 13
    { job: 1, at: t, trigger: "manual" }, // 14 j1: a late insert with the oldest slot
    { job: 2, at: t + 2 }, // 15 j2
    { job: 99, at: t + 1 }, // 16-20: a deleted job's runs wait for max_age
    { job: 99, at: t + 2 },
    { job: 99, at: t + 3 },
    { job: 99, at: t + 4 },
    { job: 99, at: t + 5 },
  ]);
  // j1 newest 4: slot5, slot4, slot3 attempt 3, slot3 attempt 2; then slot3 attempt 1, slot2, slot1, manual go.
  // j3 newest 4: slots 6..3; slot 2 goes, slot 1 is running and stays.
  const gone = [ids[3], ids[1], ids[0], ids[14], ids[9]];
  const result = await pruner(store, clock, { keepPerJob: 4, pruneBatch: 2 }).pruneOnce();
  expect(result).toEqual({ runs: 5, logs: 10 });
  expect(await runIds(store)).toEqual(without(ids, gone));
  expect(await logRunIds(store)).toEqual(without(ids, gone));
  expect(await pruner(store, clock, { keepPerJob: 4 }).pruneOnce()).toEqual({ runs: 0, logs: 0 });
});

test("0 disables each rule, and the two rules apply together", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const now = clock.now();
  await addJobs(store, 1, 2);
  const ids = await addRuns(store, [
    { job: 1, at: now - 5 * DAY }, // 0 old
    { job: 2, at: now - 5 * DAY }, // 1 old
    { job: 1, at: now - 4 * HOUR }, // 2 j1 beyond 2
    { job: 1, at: now - 3 * HOUR }, // 3
    { job: 1, at: now - 2 * HOUR }, // 4
    { job: 2, at: now - HOUR }, // 5
  ]);
  expect(await pruner(store, clock, { keepPerJob: 0, maxAge: 0 }).pruneOnce()).toEqual({ runs: 0, logs: 0 });
  expect(await runIds(store)).toEqual(ids);
  expect((await pruner(store, clock, { keepPerJob: 0, maxAge: DAY }).pruneOnce()).runs).toBe(2);
  expect(await runIds(store)).toEqual(ids.slice(2));
  expect((await pruner(store, clock, { keepPerJob: 2, maxAge: 0 }).pruneOnce()).runs).toBe(1);
  expect(await runIds(store)).toEqual(ids.slice(3));

  const other = await freshStore();
  await addJobs(other, 1, 2);
  const again = await addRuns(other, [
    { job: 1, at: now - 5 * DAY },
    { job: 2, at: now - 5 * DAY },
    { job: 1, at: now - 4 * HOUR },
    { job: 1, at: now - 3 * HOUR },
    { job: 1, at: now - 2 * HOUR },
    { job: 2, at: now - HOUR },
  ]);
  expect(await pruner(other, clock, { keepPerJob: 2, maxAge: DAY }).pruneOnce()).toEqual({ runs: 3, logs: 6 });
  expect(await runIds(other)).toEqual(again.slice(3));
});

test("with a small batch one pass deletes everything due, and no write deletes more than the batch", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const now = clock.now();
  await addJobs(store, 1, 2, 3);
  const specs: RunSpec[] = [];
  // 30 old runs (max_age), then 3 jobs × 12 recent runs of which the oldest 5 each go (keep_per_job 7).
  for (let i = 0; i < 30; i++) specs.push({ job: (i % 3) + 1, at: now - 3 * DAY + i, logs: 1 });
  for (let i = 0; i < 36; i++) specs.push({ job: (i % 3) + 1, at: now - HOUR + i, logs: 1 });
  const ids = await addRuns(store, specs);
  const { seen } = instrument(store);
  const result = await pruner(store, clock, { maxAge: DAY, keepPerJob: 7, pruneBatch: 4 }).pruneOnce();
  expect(result).toEqual({ runs: 45, logs: 45 });
  expect(await runIds(store)).toEqual(ids.slice(30 + 15));
  expect(Math.max(...seen.deletedPerWrite)).toBeLessThanOrEqual(4);
  expect(seen.deletedPerWrite.reduce((a, b) => a + b, 0)).toBe(45);
  expect(seen.writes).toBeGreaterThanOrEqual(Math.ceil(45 / 4));
});

test("a pass over 20k runs completes while timers fire and other writes commit in between", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  const now = clock.now();
  const jobIds = Array.from({ length: 50 }, (_, i) => i + 1);
  await addJobs(store, ...jobIds);
  // Run i (1..20000) of job i % 50 + 1, one per second; the first 10k ended more than a day ago.
  const base = now - DAY - 10_000 * 1000 - 500;
  await write(store, [
    {
      sql: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
            INSERT INTO runs (id, job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status, ended_at)
            SELECT i, i % 50 + 1, 'ns', 'j', ? + i * 1000, ? + i * 1000, 'schedule', 1, 'succeeded', ? + i * 1000 + 100 FROM n`,
      args: [base, base, base],
    },
    { sql: "INSERT INTO run_logs (run_id, seq, at, stream, line) SELECT id, 1, due_at, 'stdout', 'line' FROM runs", args: [] },
  ]);
  let ticks = 0;
  let passDone = false;
  let ticking = true;
  const tick = () => {
    ticks++;
    if (ticking) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  let interleaved: boolean | undefined;
  setTimeout(async () => {
    await write(store, [
      {
        sql: "INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, status) VALUES (9999, 'ns', 'x', ?, ?, 'manual', 'queued')",
        args: [now, now],
      },
    ]);
    interleaved = !passDone;
  }, 0);
  // keep 100 per job: of each job's 200 recent runs, the newest 100 (ids 15001..20000 overall) stay.
  const result = await pruner(store, clock, { maxAge: DAY, keepPerJob: 100, pruneBatch: 500 }).pruneOnce();
  passDone = true;
  ticking = false;
  expect(result).toEqual({ runs: 15_000, logs: 15_000 });
  expect(interleaved).toBe(true);
  expect(ticks).toBeGreaterThan(20);
  const left = await runIds(store);
  expect(left).toHaveLength(5001);
  expect(left[0]).toBe(15_001);
  expect(left[4999]).toBe(20_000);
  expect(Number((await read(store, "SELECT count(*) AS n FROM run_logs"))[0].n)).toBe(5000);
});

test("two nodes pruning one database at once delete each run once and agree on the survivors", async () => {
  const a = await freshStore("shared.db");
  const b = await freshStore("shared.db");
  const clock = new TestClock();
  const now = clock.now();
  await addJobs(a, 1, 2);
  const specs: RunSpec[] = [];
  for (let i = 0; i < 40; i++) specs.push({ job: (i % 2) + 1, at: now - 2 * DAY + i, logs: 1 });
  for (let i = 0; i < 40; i++) specs.push({ job: (i % 2) + 1, at: now - HOUR + i, logs: 1 });
  const ids = await addRuns(a, specs);
  const cfg = { maxAge: DAY, keepPerJob: 10, pruneBatch: 3 };
  const [ra, rb] = await Promise.all([pruner(a, clock, cfg).pruneOnce(), pruner(b, clock, cfg).pruneOnce()]);
  expect(ra.runs + rb.runs).toBe(60);
  expect(ra.logs + rb.logs).toBe(60);
  expect(await runIds(b)).toEqual(ids.slice(60));
  expect(await logRunIds(a)).toEqual(ids.slice(60));
});

test("the timer runs a pass every interval, never two at once, and stop() waits for it and leaves no timer", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  await addJobs(store, 1);
  const rec = recordingLog();
  const watched = watchedClock(clock);
  const p = pruner(store, watched.clock, { maxAge: HOUR, pruneInterval: 10 * MIN }, rec.log);
  let open = true;
  let release = () => {};
  let closed = Promise.resolve();
  instrument(store, { gate: () => (open ? Promise.resolve() : closed) });
  const old = () => addRuns(store, [{ job: 1, at: clock.now() - 2 * HOUR, logs: 0 }]);

  p.start();
  p.start(); // a second start arms nothing more
  expect(watched.armed.size).toBe(1);
  const [first] = await old();
  clock.advance(10 * MIN - 1);
  await p.idle();
  expect(rec.passes()).toBe(0);
  expect(await runIds(store)).toEqual([first]);
  clock.advance(1);
  await p.idle();
  expect(rec.passes()).toBe(1);
  expect(await runIds(store)).toEqual([]);

  // A pass held up (its reads wait) while two more intervals pass: the timer does not start another.
  await old();
  open = false;
  closed = new Promise<void>((r) => (release = r));
  clock.advance(10 * MIN);
  clock.advance(10 * MIN);
  let idle = false;
  const idled = p.idle().then(() => (idle = true));
  await new Promise((r) => setTimeout(r, 20));
  expect(idle).toBe(false);
  open = true;
  release();
  await idled;
  expect(rec.passes()).toBe(2);
  expect(await runIds(store)).toEqual([]);

  // stop() waits for the pass in progress; afterwards no interval starts another.
  open = false;
  closed = new Promise<void>((r) => (release = r));
  await old();
  clock.advance(10 * MIN);
  let stopped = false;
  const stopping = p.stop().then(() => (stopped = true));
  expect(p.stop()).toBe(p.stop());
  await new Promise((r) => setTimeout(r, 20));
  expect(stopped).toBe(false);
  open = true;
  release();
  await stopping;
  expect(watched.armed.size).toBe(0);
  const passes = rec.passes();
  const [fourth] = await old();
  clock.advance(100 * MIN);
  await p.idle();
  expect(rec.passes()).toBe(passes);
  expect((await runIds(store)).includes(fourth)).toBe(true);
});

test("a failed pass is logged and the next one deletes what is due; pruneOnce rejects with the error", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  await addJobs(store, 1);
  const ids = await addRuns(store, [{ job: 1, at: clock.now() - 2 * DAY }, { job: 1, at: clock.now() - 2 * DAY + 1 }]);
  const rec = recordingLog();
  const p = pruner(store, clock, { maxAge: DAY, pruneInterval: MIN }, rec.log);
  const { restore } = instrument(store, { failWrites: 2 });
  await expect(p.pruneOnce()).rejects.toThrow("injected write failure");
  p.start();
  clock.advance(MIN);
  await p.idle();
  expect(rec.lines.filter((l) => l.level === "error").map((l) => l.fields?.error)).toEqual(["injected write failure"]);
  expect(await runIds(store)).toEqual(ids);
  clock.advance(MIN);
  await p.idle();
  expect(await runIds(store)).toEqual([]);
  await p.stop();
  restore();
});

test("a run back in flight by the time of the write is not deleted, nor are its logs", async () => {
  const store = await freshStore();
  const clock = new TestClock();
  await addJobs(store, 1);
  const ids = await addRuns(store, [
    { job: 1, at: clock.now() - 3 * DAY },
    { job: 1, at: clock.now() - 3 * DAY + 1 },
    { job: 1, at: clock.now() - 3 * DAY + 2 },
  ]);
  // Another writer slips in between the pass's read and its write (no code path does this today; the
  // delete must not rely on that).
  let once = true;
  instrument(store, {
    beforeWrite: async () => {
      if (!once) return;
      once = false;
      await store.client.batch([{ sql: "UPDATE runs SET status = 'running', ended_at = NULL WHERE id = ?", args: [ids[1]] }], "write");
    },
  });
  expect(await pruner(store, clock, { maxAge: DAY, keepPerJob: 1 }).pruneOnce()).toEqual({ runs: 2, logs: 4 });
  expect(await runIds(store)).toEqual([ids[1]]);
  expect(await logRunIds(store)).toEqual([ids[1]]);
});
