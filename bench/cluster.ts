// Cluster: several tock nodes (each its own `bun src/main.ts serve` process with its own
// TOCK_SCHEDULER_NODE_ID) on ONE database file.
//
// 1. Drain across nodes. For 1, 2 and 3 nodes: a fresh file with N = 100,000 one-shot HTTP jobs already due
//    (seeded while tock is stopped, bench/seed.ts, due 1 s before the seed starts, misfire_threshold=1h as in
//    drain.ts), then the nodes are spawned together and the clock runs from the first spawn until every run
//    is `succeeded` in the database. Reported per node count: executions/s, lateness at the sink (arrival −
//    due time; the drain starts dueMsBeforeSpawn after the due time), runs per node (runs.node_id of the
//    succeeded runs), duplicate deliveries (one webhook-id arriving more than once at the sink) and
//    duplicate slots (more than one succeeded run for one (job_id, scheduled_at)).
//
// 2. Takeover. 3 nodes with the default scheduler settings; 10,000 one-shot jobs all due at one instant T,
//    seeded before the nodes start with T far enough ahead that all three are up (and see each other) before
//    T − lookahead, so they claim the slots ahead of T. At T − 1 s the runs table says which node holds which
//    runs (queued/running with its node_id): the node holding the most is killed with SIGKILL (its whole
//    process group), right after that read. Its runs' webhook-ids (the key every attempt of a slot shares)
//    are its share. We wait until every slot arrived at the sink, or T + 90 s, and report missed (not arrived
//    by T + 60 s), lateness (arrival − T) of the dead node's share and of all, and duplicates.
//
// Targets: drain: every run succeeded, 0 duplicate deliveries and slots, for each node count (the rates are
// reported, not judged: on 2 cores, nodes share the CPU and the one database file). Takeover: every run
// fires by T + 60 s, 0 duplicates, p99 lateness of the dead node's share ≤ 10 s.
//
// CLUSTER_N changes the drain's N, CLUSTER_NODES the node counts (default "1,2,3"), CLUSTER_TAKEOVER_N the
// takeover's N.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { awaitRuns, log, main, pct, round, sleep, sortedNumbers, startSink, startTock, tempDir, tockOverrides, type Sink, type Tock } from "./lib.ts";
import { seedOneShots } from "./seed.ts";

const N = Number(process.env.CLUSTER_N ?? 100_000);
const NODE_COUNTS = (process.env.CLUSTER_NODES ?? "1,2,3").split(",").map(Number);
const TAKEOVER_N = Number(process.env.CLUSTER_TAKEOVER_N ?? 10_000);
const TAKEOVER_NODES = 3;
const DRAIN_TIMEOUT_MS = 90_000;
/** A slot not arrived by T + this is missed. */
const MISS_AFTER_MS = 60_000;
/** How long we wait past T for the dead node's share (long enough for a 30 s lease to lapse). */
const WAIT_AFTER_MS = 90_000;
const KILL_BEFORE_T_MS = 1000;
const DRAIN_ENV = { TOCK_SCHEDULER_MISFIRE_THRESHOLD: "1h" };
/** The default lookahead: the nodes must all be up this long before T (plus a poll) to claim ahead of it. */
const LOOKAHEAD_MS = 5000;

const nodeEnv = (i: number, env: Record<string, string> = {}) => ({ ...env, TOCK_SCHEDULER_NODE_ID: `node-${i}` });
/** The settings the nodes run with, for the JSON line. */
const configOf = (k: number, env: Record<string, string> = {}) => ({ ...tockOverrides(env), TOCK_SCHEDULER_NODE_ID: k > 1 ? `node-1 … node-${k}` : "node-1" });

/** Spawns `k` nodes on one file at once. */
function startNodes(dbUrl: string, k: number, env: Record<string, string> = {}): Promise<Tock[]> {
  return Promise.all(Array.from({ length: k }, (_, i) => startTock(dbUrl, nodeEnv(i + 1, env), 30_000, `tock node-${i + 1}`)));
}

function lateness(xs: number[]) {
  const s = sortedNumbers(xs);
  return { p50: round(pct(s, 50)), p99: round(pct(s, 99)), max: round(s[s.length - 1] ?? NaN) };
}

/** Webhook-ids that arrived more than once, and how many extra arrivals they made. */
function duplicatesOf(ids: string[]): { ids: number; extraArrivals: number } {
  const seen = new Map<string, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  let dupIds = 0;
  for (const c of seen.values()) if (c > 1) dupIds++;
  return { ids: dupIds, extraArrivals: ids.length - seen.size };
}

const DUP_SLOTS_SQL = `SELECT count(*) AS n FROM (SELECT 1 FROM runs WHERE status = 'succeeded' GROUP BY job_id, scheduled_at HAVING count(*) > 1)`;
const PER_NODE_SQL = "SELECT COALESCE(node_id, '(none)') AS node, count(*) AS n FROM runs WHERE status = 'succeeded' GROUP BY node_id ORDER BY node_id";

/** Warn and error lines a node logged (of its last 2,000 lines). */
const warnings = (t: Tock) => t.lines.filter((l) => /"level":"(warn|error)"/.test(l)).length;

// --- 1. drain across nodes -------------------------------------------------------------------------------

async function drain(sink: Sink, k: number) {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const dbUrl = `file:${dbFile}`;
  try {
    const t0 = performance.now();
    const dueAt = Date.now() - 1000;
    await seedOneShots(dbUrl, "drain", N, new Date(dueAt).toISOString(), `${sink.url}/drain`);
    log(`cluster drain ×${k}: ${N} due jobs stored in ${Math.round(performance.now() - t0)} ms`);
    await sink.reset();

    const tocks = await startNodes(dbUrl, k, DRAIN_ENV);
    const first = Math.min(...tocks.map((t) => t.spawnedAt));
    const warned = () => Object.fromEntries(tocks.map((t, i) => [`node-${i + 1}`, warnings(t)]));
    let perNode: Record<string, number> = {};
    let dupSlots = 0;
    const { done, peakMB, tockCpuMs, progress, stats } = await awaitRuns(tocks, dbFile, N, DRAIN_TIMEOUT_MS, (db) => {
      perNode = Object.fromEntries((db.query(PER_NODE_SQL).all() as { node: string; n: number }[]).map((r) => [r.node, r.n]));
      dupSlots = (db.query(DUP_SLOTS_SQL).get() as { n: number }).n;
    });
    const warnLines = warned();
    const ok = stats.find((s) => s.status === "succeeded");
    const succeeded = ok?.n ?? 0;
    const elapsedMs = (ok?.last ?? Date.now()) - first;
    const rate = Math.round((succeeded / elapsedMs) * 1000);
    const arrivals = await sink.dump();
    const dup = duplicatesOf(arrivals.ids);
    log(`cluster drain ×${k}: ${succeeded} succeeded in ${elapsedMs} ms from the first spawn: ${rate}/s; per node ${JSON.stringify(perNode)}`);
    return {
      nodes: k,
      executionsPerSec: rate,
      elapsedMsFromFirstSpawn: elapsedMs,
      servingMsAfterSpawn: Math.max(...tocks.map((t) => t.servingAt - first)),
      dueMsBeforeSpawn: first - dueAt,
      lateMs: lateness(arrivals.hr.map((x) => x - dueAt)),
      succeeded,
      runsPerNode: perNode,
      runStatuses: Object.fromEntries(stats.map((s) => [s.status, s.n])),
      sinkArrivals: arrivals.ids.length,
      duplicateDeliveries: dup.extraArrivals,
      duplicateSlots: dupSlots,
      warnLines,
      cpuMs: tockCpuMs,
      peakRssMB: peakMB,
      progress: progress.filter((_, i) => i % 10 === 0 || i === progress.length - 1),
      done: done >= N,
    };
  } finally {
    cleanup();
  }
}

// --- 2. takeover -------------------------------------------------------------------------------------------

async function takeover(sink: Sink) {
  const { dir, cleanup } = tempDir();
  const dbFile = join(dir, "tock.db");
  const dbUrl = `file:${dbFile}`;
  let tocks: Tock[] = [];
  let db: Database | null = null;
  try {
    // T: the seed (well under a second for 10,000), three nodes starting at once (a few seconds on 2 cores),
    // then a lookahead and a poll or two with all three up.
    const T = Date.now() + 12_000;
    const t0 = performance.now();
    await seedOneShots(dbUrl, "takeover", TAKEOVER_N, new Date(T).toISOString(), `${sink.url}/takeover`);
    log(`cluster takeover: ${TAKEOVER_N} jobs due at ${new Date(T).toISOString()} stored in ${Math.round(performance.now() - t0)} ms`);
    await sink.reset();
    tocks = await startNodes(dbUrl, TAKEOVER_NODES);
    const upBeforeClaim = T - LOOKAHEAD_MS - Date.now();
    log(`cluster takeover: ${TAKEOVER_NODES} nodes serving ${upBeforeClaim} ms before T − lookahead`);
    if (upBeforeClaim < 1500) throw new Error(`the nodes were serving only ${upBeforeClaim} ms before T − lookahead`);

    // At T − 1 s: who holds what, then the node holding the most dies at once.
    db = new Database(dbFile, { readonly: true });
    const heldQuery = db.query("SELECT node_id AS node, count(*) AS n FROM runs WHERE status IN ('queued', 'running') AND node_id IS NOT NULL GROUP BY node_id");
    const keysQuery = db.query("SELECT COALESCE(key, id) AS k FROM runs WHERE status IN ('queued', 'running') AND node_id = ?");
    await sleep(T - KILL_BEFORE_T_MS - Date.now());
    const held = heldQuery.all() as { node: string; n: number }[];
    const victimRow = held.reduce<{ node: string; n: number } | null>((a, b) => (a === null || b.n > a.n ? b : a), null);
    if (!victimRow) throw new Error("no node held any run at T − 1 s: nothing was claimed ahead");
    const victimIndex = Number(victimRow.node.replace("node-", "")) - 1;
    const victim = tocks[victimIndex];
    const share = new Set((keysQuery.all(victimRow.node) as { k: number }[]).map((r) => String(r.k)));
    victim.kill();
    const killedAt = Date.now();
    const heldAtKill = Object.fromEntries(held.map((r) => [r.node, r.n]));
    const claimedAtKill = (db.query("SELECT count(*) AS n FROM runs WHERE namespace = 'takeover'").get() as { n: number }).n;
    log(`cluster takeover: held at T − ${T - killedAt} ms ${JSON.stringify(heldAtKill)}; killed ${victimRow.node} (${share.size} runs)`);
    await victim.exited;

    // Every slot at the sink (plus a moment for duplicates), or T + 90 s.
    const deadline = T + WAIT_AFTER_MS;
    for (;;) {
      if ((await sink.count()) >= TAKEOVER_N || Date.now() >= deadline) break;
      await sleep(50);
    }
    await sleep(Math.min(2000, Math.max(0, deadline - Date.now())));
    const d = await sink.dump();
    const survivors = tocks.filter((t) => t !== victim);
    const warnLines = Object.fromEntries(tocks.map((t, i) => [`node-${i + 1}`, warnings(t)]));
    await Promise.all(survivors.map((t) => t.stop()));

    // First arrival of each webhook-id.
    const firstHr = new Map<string, number>();
    const firstWall = new Map<string, number>();
    d.ids.forEach((id, i) => {
      if (!firstHr.has(id)) {
        firstHr.set(id, d.hr[i]);
        firstWall.set(id, d.wall[i]);
      }
    });
    const dup = duplicatesOf(d.ids);
    const arrivedBy = (ms: number) => [...firstWall.values()].filter((w) => w <= ms).length;
    const deadLate = [...share].filter((k) => firstHr.has(k)).map((k) => firstHr.get(k)! - T);
    const restLate = [...firstHr].filter(([k]) => !share.has(k)).map(([, hr]) => hr - T);
    const stats = Object.fromEntries((db.query("SELECT status, count(*) AS n FROM runs WHERE namespace = 'takeover' GROUP BY status").all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
    const perNode = Object.fromEntries((db.query(PER_NODE_SQL).all() as { node: string; n: number }[]).map((r) => [r.node, r.n]));
    const dupSlots = (db.query(DUP_SLOTS_SQL).get() as { n: number }).n;
    const recoveryRuns = (db.query("SELECT count(*) AS n FROM runs WHERE trigger = 'recovery'").get() as { n: number }).n;

    const all = lateness([...firstHr.values()].map((x) => x - T));
    const dead = lateness(deadLate);
    const missed = TAKEOVER_N - arrivedBy(T + MISS_AFTER_MS);
    const target = { missed: 0, duplicates: 0, deadShareP99MaxMs: 10_000 };
    const met = share.size > 0 && missed === 0 && dup.extraArrivals === 0 && dupSlots === 0 && dead.p99 <= target.deadShareP99MaxMs;
    log(`cluster takeover: dead share p50 ${dead.p50} p99 ${dead.p99} max ${dead.max} ms; all p99 ${all.p99} ms; missed ${missed}; duplicates ${dup.extraArrivals}/${dupSlots} -> ${met ? "met" : "MISSED"}`);
    return {
      n: TAKEOVER_N,
      nodes: TAKEOVER_NODES,
      config: configOf(TAKEOVER_NODES),
      nodesUpMsBeforeTMinusLookahead: upBeforeClaim,
      killedNode: victimRow.node,
      killedMsBeforeT: T - killedAt,
      heldAtKill,
      runsClaimedAtKill: claimedAtKill,
      deadShare: share.size,
      deadShareArrived: deadLate.length,
      deadShareLateMs: dead,
      survivorsShareLateMs: lateness(restLate),
      lateMs: all,
      early: [...firstWall.values()].filter((w) => w < T).length,
      arrivals: d.ids.length,
      distinctArrived: firstHr.size,
      missed,
      neverArrived: TAKEOVER_N - firstHr.size,
      duplicateDeliveries: dup.extraArrivals,
      duplicateSlots: dupSlots,
      runStatuses: stats,
      succeededPerNode: perNode,
      recoveryRuns,
      warnLines,
      target,
      met,
    };
  } finally {
    db?.close();
    await Promise.all(tocks.map((t) => t.stop()));
    cleanup();
  }
}

main(
  "cluster",
  async () => {
    const sink = await startSink();
    try {
      const drains = [];
      for (const k of NODE_COUNTS) drains.push(await drain(sink, k));
      const one = drains.find((r) => r.nodes === 1);
      for (const r of drains) Object.assign(r, { rateVsOneNode: one ? round(r.executionsPerSec / one.executionsPerSec, 2) : null });
      const drainTarget = { allSucceeded: true, duplicateDeliveries: 0, duplicateSlots: 0 };
      const drainMet = drains.every((r) => r.done && r.duplicateDeliveries === 0 && r.duplicateSlots === 0);
      const take = await takeover(sink);
      return {
        tockMode: "child processes, one database file",
        drain: { config: configOf(Math.max(...NODE_COUNTS), DRAIN_ENV), n: N, results: drains, target: drainTarget, met: drainMet },
        takeover: take,
        target: { drain: drainTarget, takeover: take.target },
        met: drainMet && take.met,
      };
    } finally {
      await sink.stop();
    }
  },
  450_000,
);
