// Workflow: 1,000 instances of one 10-step HTTP workflow, and 10,000 plain one-shot runs beside it.
//
// Workflows: tock runs as a child process (fresh database file, default config unless TOCK_* variables are
// exported). One workflow is PUT with `overlap: "allow"` (the default, forbid, would store every instance
// triggered while one runs as cancelled): 10 steps, each an HTTP POST to the sink (answered 200 at once),
// in layers with fan-out and fan-in: s0 -> {s1, s2, s3} -> s4 -> {s5, s6, s7} -> s8 -> s9. Then INSTANCES
// triggers (POST …/trigger, each must answer 202) are sent from this process with CONCURRENCY in flight, as
// fast as tock answers, and the database file is polled (read-only) until every instance has ended. The
// figures come from the database afterwards: steps/s = step runs succeeded / (last step's ended_at - the
// first trigger sent); for every non-root step of every instance, the delay from the end of the LAST of its
// parents to its run's start (started_at), split into parents' end -> the step's run queued (due_at, the
// instance advanced) and queued -> started (claimed and marked running); each step's run split at the sink's
// arrival of its request (webhook-id = the run id); the instances' durations; counts of failed, skipped and
// missing steps (all should be 0); tock's CPU from the first trigger to the end, and its peak RSS (VmHWM).
// WORKFLOW_INSTANCES, WORKFLOW_CONCURRENCY and WORKFLOW_PLAIN_N change the sizes.
//
// Plain runs, for comparison on the same machine in the same run: a fresh tock (fresh file), one
// POST …/jobs:batch of PLAIN_N one-shot jobs with a dueTime 1 s ago (HTTP POST to the same sink), and the
// database polled until every run has succeeded: plainRunsPerSec = PLAIN_N / (last ended_at - the batch
// request sent), so both rates count the API calls that made the work.
//
// No target: figures only.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { cpuMsOf, log, main, memoryOf, pct, pool, round, type Sink, sleep, sortedNumbers, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";

const INSTANCES = Number(process.env.WORKFLOW_INSTANCES ?? 1000);
const CONCURRENCY = Number(process.env.WORKFLOW_CONCURRENCY ?? 32);
const PLAIN_N = Number(process.env.WORKFLOW_PLAIN_N ?? 10_000);
const WAIT_MS = 60_000;

/** The graph: each step's parents. */
const GRAPH: [string, string[]][] = [
  ["s0", []],
  ["s1", ["s0"]],
  ["s2", ["s0"]],
  ["s3", ["s0"]],
  ["s4", ["s1", "s2", "s3"]],
  ["s5", ["s4"]],
  ["s6", ["s4"]],
  ["s7", ["s4"]],
  ["s8", ["s5", "s6", "s7"]],
  ["s9", ["s8"]],
];
const STEPS = GRAPH.length;

const spread = (xs: number[]) => {
  const s = sortedNumbers(xs);
  return { p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s[s.length - 1] ?? NaN) };
};

/** Polls the database file (read-only) every 50 ms until the count `sql` reads reaches `n`; throws after `timeoutMs`. */
async function until(db: Database, sql: string, n: number, timeoutMs: number, what: string): Promise<number> {
  const q = db.query(sql);
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastLog = 0;
  for (;;) {
    const done = (q.get() as { n: number }).n;
    if (done >= n) return done;
    if (Date.now() > deadline) throw new Error(`${what}: ${done} of ${n} after ${timeoutMs} ms`);
    if (done !== last && Date.now() - lastLog > 2000) {
      log(`${what}: ${done} of ${n}`);
      lastLog = Date.now();
    }
    last = done;
    await sleep(50);
  }
}

async function workflows(sink: Sink) {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const tock = await startTock(`file:${dbFile}`);
  try {
    const steps = GRAPH.map(([id, parents]) => ({ id, ...(parents.length ? { dependsOn: parents } : {}), target: { http: { url: `${sink.url}/wf/${id}` } } }));
    const put = await fetch(`${tock.url}/api/v1/namespaces/wf/workflows/bench`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ overlap: "allow", steps }),
    });
    if (put.status !== 201) throw new Error(`PUT workflow: HTTP ${put.status} ${(await put.text()).slice(0, 300)}`);
    await put.text();
    await sink.reset();

    const cpu0 = cpuMsOf(tock.pid);
    const firstTriggerAt = Date.now();
    const t0 = performance.now();
    const triggerMs: number[] = [];
    let failedTriggers = 0;
    let firstError: string | undefined;
    await pool(INSTANCES, CONCURRENCY, async () => {
      const t = performance.now();
      try {
        const res = await fetch(`${tock.url}/api/v1/namespaces/wf/workflows/bench/trigger`, { method: "POST" });
        const text = await res.text();
        if (res.status !== 202) {
          failedTriggers++;
          firstError ??= `HTTP ${res.status} ${text.slice(0, 300)}`;
        }
      } catch (e) {
        failedTriggers++;
        firstError ??= String(e);
      }
      triggerMs.push(performance.now() - t);
    });
    const triggersMs = performance.now() - t0;
    log(`workflow: ${INSTANCES - failedTriggers} of ${INSTANCES} triggers answered 202 in ${Math.round(triggersMs)} ms${firstError ? ` (first error: ${firstError})` : ""}`);
    if (failedTriggers === INSTANCES) throw new Error(`every trigger failed: ${firstError}`);

    const db = new Database(dbFile, { readonly: true });
    let timedOut: string | null = null;
    try {
      await until(db, "SELECT count(*) AS n FROM workflow_instances WHERE status != 'running'", INSTANCES - failedTriggers, WAIT_MS, "workflow: instances ended");
    } catch (e) {
      timedOut = e instanceof Error ? e.message : String(e);
    }
    const tockCpuMs = cpuMsOf(tock.pid) - cpu0;
    const mem = memoryOf(tock.pid);
    await tock.stop();

    // Everything from the database, after tock stopped.
    const instances = db.query("SELECT id, status, started_at, ended_at FROM workflow_instances").all() as { id: number; status: string; started_at: number; ended_at: number | null }[];
    const runs = db
      .query("SELECT id, instance_id, step_id, status, attempt, due_at, started_at, ended_at FROM runs WHERE instance_id != 0 ORDER BY attempt")
      .all() as { id: number; instance_id: number; step_id: string; status: string; attempt: number; due_at: number; started_at: number | null; ended_at: number | null }[];
    const stepStatuses = db.query("SELECT status, count(*) AS n FROM workflow_steps GROUP BY status").all() as { status: string; n: number }[];
    db.close();
    const arrivals = await sink.dump();
    // The sink's first arrival (Date.now(), tock's clock) of each webhook-id: a step's first run id.
    const arrivedAt = new Map<string, number>();
    arrivals.ids.forEach((id, i) => arrivedAt.has(id) || arrivedAt.set(id, arrivals.wall[i]));

    // The latest attempt of each step of each instance (later attempts overwrite: ordered by attempt).
    const byInstance = new Map<number, Map<string, (typeof runs)[number]>>();
    for (const r of runs) {
      let m = byInstance.get(r.instance_id);
      if (!m) byInstance.set(r.instance_id, (m = new Map()));
      m.set(r.step_id, r);
    }
    const delays: number[] = [];
    const queuedAfter: number[] = [];
    const startedAfterQueued: number[] = [];
    const byStep: Record<string, number[]> = {};
    const rootAfterTrigger: number[] = [];
    const runMs: number[] = [];
    const startToSink: number[] = [];
    const sinkToEnd: number[] = [];
    let succeededSteps = 0;
    for (const inst of instances) {
      const m = byInstance.get(inst.id) ?? new Map();
      for (const [id, parents] of GRAPH) {
        const r = m.get(id);
        if (!r || r.status !== "succeeded" || r.started_at === null) continue;
        succeededSteps++;
        runMs.push(r.ended_at! - r.started_at);
        const at = arrivedAt.get(String(r.id));
        if (at !== undefined && r.attempt === 1) startToSink.push(at - r.started_at), sinkToEnd.push(r.ended_at! - at);
        if (parents.length === 0) {
          rootAfterTrigger.push(r.started_at - inst.started_at);
          continue;
        }
        const ends = parents.map((p) => m.get(p)?.ended_at ?? null);
        if (ends.some((e) => e === null)) continue;
        const parentsEnd = Math.max(...(ends as number[]));
        const d = r.started_at - parentsEnd;
        delays.push(d);
        queuedAfter.push(r.due_at - parentsEnd);
        startedAfterQueued.push(r.started_at - r.due_at);
        (byStep[id] ??= []).push(d);
      }
    }
    const succeededRuns = runs.filter((r) => r.status === "succeeded");
    const lastEnd = Math.max(...succeededRuns.map((r) => r.ended_at ?? 0));
    const firstStart = Math.min(...succeededRuns.map((r) => r.started_at ?? Infinity));
    const elapsedMs = lastEnd - firstTriggerAt;
    const durations = instances.filter((i) => i.ended_at !== null).map((i) => i.ended_at! - i.started_at);
    const runStatuses: Record<string, number> = {};
    for (const r of runs) runStatuses[r.status] = (runStatuses[r.status] ?? 0) + 1;
    const instanceStatuses: Record<string, number> = {};
    for (const i of instances) instanceStatuses[i.status] = (instanceStatuses[i.status] ?? 0) + 1;
    const steps_ = Object.fromEntries(stepStatuses.map((s) => [s.status, s.n]));
    const stepsPerSec = Math.round((succeededRuns.length / elapsedMs) * 1000);
    log(`workflow: ${succeededRuns.length} step runs succeeded in ${elapsedMs} ms from the first trigger: ${stepsPerSec}/s; parent end -> child start p50 ${pct(sortedNumbers(delays), 50)} ms`);
    return {
      ...(timedOut ? { timedOut } : {}),
      instances: INSTANCES,
      stepsPerInstance: STEPS,
      triggerConcurrency: CONCURRENCY,
      triggersAccepted: INSTANCES - failedTriggers,
      ...(firstError ? { firstTriggerError: firstError } : {}),
      triggersPerSec: Math.round((INSTANCES / triggersMs) * 1000),
      triggerMs: spread(triggerMs),
      stepRuns: succeededRuns.length,
      elapsedMsFromFirstTrigger: elapsedMs,
      stepsPerSec,
      stepsPerSecFromFirstStart: Math.round((succeededRuns.length / (lastEnd - firstStart)) * 1000),
      /** Last parent's ended_at -> the step run's started_at, over every non-root step of every instance. */
      parentEndToStartMs: spread(delays),
      /** ... split: last parent's end -> the step's run inserted (due_at), then -> marked running. */
      parentEndToQueuedMs: spread(queuedAfter),
      queuedToStartMs: spread(startedAfterQueued),
      parentEndToStartByStepMs: Object.fromEntries(Object.entries(byStep).map(([k, v]) => [k, spread(v)])),
      triggerToRootStartMs: spread(rootAfterTrigger),
      /** Each step's run: started_at -> ended_at, split at the sink's arrival (tock's start to the request's arrival, then to the end). */
      stepRunMs: spread(runMs),
      startToSinkMs: spread(startToSink),
      sinkToEndMs: spread(sinkToEnd),
      instanceDurationMs: spread(durations),
      instanceStatuses,
      runStatuses,
      stepStatuses: steps_,
      /** Step runs that ended other than succeeded or skipped (failed, timed_out, killed, lost). */
      failed: runs.filter((r) => !["succeeded", "skipped", "queued", "running"].includes(r.status)).length,
      instancesNotSucceeded: instances.length - (instanceStatuses.succeeded ?? 0),
      skipped: steps_.skipped ?? 0,
      /** Steps of the INSTANCES x STEPS asked for with no succeeded run (a failed trigger's count too). */
      missing: INSTANCES * STEPS - succeededSteps,
      sinkArrivals: arrivals.ids.length,
      duplicates: arrivals.ids.length - new Set(arrivals.ids).size,
      tockCpuMs,
      tockCpuUsPerStep: round((tockCpuMs * 1000) / Math.max(1, succeededRuns.length)),
      peakRssMB: mem.hwmMB,
    };
  } finally {
    await tock.stop();
    cleanup();
  }
}

async function plainRuns(sink: Sink) {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const tock = await startTock(`file:${dbFile}`);
  try {
    await sink.reset();
    const target = { http: { url: `${sink.url}/plain` } };
    const cpu0 = cpuMsOf(tock.pid);
    const sentAt = Date.now();
    const dueTime = new Date(sentAt - 1000).toISOString();
    const body = JSON.stringify({ jobs: Array.from({ length: PLAIN_N }, (_, i) => ({ name: `job-${i}`, dueTime, target })) });
    const res = await fetch(`${tock.url}/api/v1/namespaces/plain/jobs:batch`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const answer = (await res.json()) as { created?: number };
    if (res.status !== 200 || answer.created !== PLAIN_N) throw new Error(`jobs:batch: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
    const batchMs = Date.now() - sentAt;
    const db = new Database(dbFile, { readonly: true });
    let timedOut: string | null = null;
    try {
      await until(db, "SELECT count(*) AS n FROM runs WHERE status = 'succeeded'", PLAIN_N, WAIT_MS, "plain: runs succeeded");
    } catch (e) {
      timedOut = e instanceof Error ? e.message : String(e);
    }
    const tockCpuMs = cpuMsOf(tock.pid) - cpu0;
    const mem = memoryOf(tock.pid);
    await tock.stop();
    const stats = db.query("SELECT status, count(*) AS n, min(started_at) AS first, max(ended_at) AS last FROM runs GROUP BY status").all() as { status: string; n: number; first: number; last: number }[];
    db.close();
    const ok = stats.find((s) => s.status === "succeeded");
    const n = ok?.n ?? 0;
    const elapsedMs = (ok?.last ?? Date.now()) - sentAt;
    const rate = Math.round((n / elapsedMs) * 1000);
    log(`plain: ${n} runs succeeded in ${elapsedMs} ms from the batch request: ${rate}/s`);
    return {
      ...(timedOut ? { timedOut } : {}),
      n: PLAIN_N,
      made: "one POST …/jobs:batch, dueTime 1 s ago",
      batchMs,
      succeeded: n,
      elapsedMsFromBatchSent: elapsedMs,
      runsPerSec: rate,
      runsPerSecFromFirstStart: ok ? Math.round((n / (ok.last - ok.first)) * 1000) : 0,
      runStatuses: Object.fromEntries(stats.map((s) => [s.status, s.n])),
      tockCpuMs,
      tockCpuUsPerRun: round((tockCpuMs * 1000) / Math.max(1, n)),
      peakRssMB: mem.hwmMB,
    };
  } finally {
    await tock.stop();
    cleanup();
  }
}

main("workflow", async () => {
  const sink = await startSink();
  try {
    const wf = await workflows(sink);
    const plain = await plainRuns(sink);
    return {
      tockMode: "child process",
      config: tockOverrides(),
      stepsPerSec: wf.stepsPerSec,
      plainRunsPerSec: plain.runsPerSec,
      stepsToPlain: round(wf.stepsPerSec / plain.runsPerSec, 3),
      parentEndToStartMs: wf.parentEndToStartMs,
      instanceDurationMs: wf.instanceDurationMs,
      failed: wf.failed,
      skipped: wf.skipped,
      missing: wf.missing,
      workflow: wf,
      plain,
    };
  } finally {
    await sink.stop();
  }
}, 150_000);
