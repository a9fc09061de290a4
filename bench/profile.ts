// Diagnosis, not a benchmark (run.ts does not run it): tock in THIS process (built as src/main.ts builds
// it), with every SQLite call on the JS thread timed and attributed to what it is for, so a slow figure
// can be split into claim / mark running / fetch / finish / API writes. The sink and the load generator
// stay in their own processes.
//
//   bun bench/profile.ts drain [N]     N one-shot jobs already due (default 20,000), until all succeeded
//   bun bench/profile.ts burst [N]     N one-shot jobs due at one instant T (default 1,000), until all arrived
//   bun bench/profile.ts api [ms]      64 connections creating cron jobs for ms (default 5,000) after 2 s warm-up
//
// Prints one JSON line: wall and CPU time of the measured phase, and per SQL purpose the calls, ms spent
// in prepare and in stepping/commit (COMMIT, including its fsync, is charged to the batch it ends), the
// count of executor calls and their summed wall time, the claim cycles.
import Database from "libsql";
import { join } from "node:path";
import { parseConfig } from "../src/config.ts";
import { createHttpExecutor } from "../src/executors/http.ts";
import { createTcpExecutor } from "../src/executors/tcp.ts";
import { Egress, egressPolicy } from "../src/net/egress.ts";
import { cachedResolver, systemResolver } from "../src/net/resolve.ts";
import { silentLogger } from "../src/log.ts";
import { serve } from "../src/runtime/serve.ts";
import { createNode } from "../src/node.ts";
import { BENCH, createJobs, lastJson, log, main, pct, round, sleep, sortedNumbers, spawnChild, startSink, tempDir } from "./lib.ts";
import { seedOneShots } from "./seed.ts";

// --- SQL accounting ---------------------------------------------------------------------------------

const PURPOSES: [RegExp, string][] = [
  [/^INSERT INTO jobs/, "api: put job (insert/upsert)"],
  [/^DELETE FROM runs WHERE status = 'queued' AND job_id = \(SELECT/, "api: put job (drop queued runs)"],
  [/^SELECT id, version, namespace, name, schedule, schedule_kind.* WHERE next_fire_at/, "claim: select due jobs"],
  [/^WITH a\(job_id, next, fired, read_version\).*UPDATE jobs SET next_fire_at/, "claim: advance jobs"],
  [/^WITH s\(job_id, slot, read_version\).*INSERT INTO runs/, "claim: insert runs"],
  [/^INSERT INTO runs .*'skipped'/s, "claim: insert skipped run"],
  [/^UPDATE runs SET node_id = \?, lease_until/, "claim queued runs"],
  [/^SELECT id, version, namespace, name, schedule, schedule_kind.* WHERE id IN/, "claim queued runs: read jobs"],
  [/'recovery'/, "recover lapsed leases (every cycle)"],
  [/^UPDATE runs AS r SET lease_until = NULL, fence/, "recover lapsed leases (every cycle)"],
  [/^UPDATE runs SET node_id = NULL/, "recover lapsed leases (every cycle)"],
  [/^WITH m\(id, due_at, fence, room\).*UPDATE runs SET status = 'running'/, "mark running"],
  [/^WITH e\(id, fence, status, ended_at.*UPDATE runs SET ended_at/, "finish runs"],
  [/^UPDATE runs SET status = \?, ended_at/, "finish unstarted run"],
  [/^INSERT INTO runs .*'retry'/s, "finish runs: queue retries"],
  [/^INSERT INTO deliveries/, "finish runs: store deliveries"],
  [/FROM deliveries/, "deliveries: look for due (every poll)"],
  [/^UPDATE deliveries/, "deliveries: take, record"],
  [/^UPDATE runs SET lease_until/, "renew leases"],
  [/^UPDATE nodes SET heartbeat/, "renew leases"],
  [/^SELECT 1$/, "SELECT 1 (readyz)"],
];

function purposeOf(sql: string): string {
  const s = sql.trim().replace(/\s+/g, " ");
  for (const [re, name] of PURPOSES) if (re.test(s)) return name;
  return s.slice(0, 60);
}

interface Acc {
  statements: number;
  transactions: number;
  prepareMs: number;
  execMs: number;
}
let acc = new Map<string, Acc>();
const get = (p: string) => {
  let a = acc.get(p);
  if (!a) acc.set(p, (a = { statements: 0, transactions: 0, prepareMs: 0, execMs: 0 }));
  return a;
};

/** When each statement of these purposes was prepared (epoch ms), for timelines. */
const marks: Record<string, number[]> = { "mark running": [], "finish run": [], "claim: select due jobs": [] };

/** Per connection: the purpose of its current transaction (its first statement), BEGIN time pending. */
const txOf = new WeakMap<object, { purpose: string | null; pendingMs: number }>();

/**
 * PROFILE_SYNC_NORMAL_ALL=1 is an experiment: every pooled connection gets PRAGMA synchronous=NORMAL
 * before its first statement (src/store/client.ts sets it through execute(), which reaches one of them).
 */
const syncAll = process.env.PROFILE_SYNC_NORMAL_ALL === "1";
const synced = new WeakSet<object>();
const wrapped = new WeakSet<object>();

function instrumentLibsql() {
  const proto = (Database as unknown as { prototype: Record<string, any> }).prototype;
  const prepare = proto.prepare;
  proto.prepare = function (this: object, sql: string) {
    if (syncAll && !synced.has(this)) {
      synced.add(this);
      prepare.call(this, "PRAGMA synchronous=NORMAL").run();
    }
    const t0 = performance.now();
    const stmt = prepare.call(this, sql);
    const m = marks[purposeOf(sql)];
    if (m) m.push(performance.timeOrigin + t0);
    const prepMs = performance.now() - t0;
    const text = sql.trim();
    let tx = txOf.get(this);
    if (!tx) txOf.set(this, (tx = { purpose: null, pendingMs: 0 }));
    const isBegin = /^BEGIN/i.test(text);
    const isCommit = /^(COMMIT|ROLLBACK)/i.test(text);
    const conn = tx;
    const own = isBegin || isCommit ? "" : purposeOf(text);
    // Charged to the transaction's purpose at the time of the call (a kept statement is prepared once).
    const charge = (ms: number, kind: "prepareMs" | "execMs") => {
      if (isBegin) {
        conn.pendingMs += ms;
        return;
      }
      get(isCommit ? (conn.purpose ?? "(commit)") : own)[kind] += ms;
    };
    charge(prepMs, "prepareMs");
    // The driver's statements are kept and handed out again (src/store/client.ts): wrapped once.
    if (wrapped.has(stmt)) return stmt;
    wrapped.add(stmt);
    for (const m of ["run", "all", "get", "columns", "raw", "iterate"]) {
      const orig = stmt[m];
      if (typeof orig !== "function") continue;
      stmt[m] = (...args: unknown[]) => {
        if (m !== "columns" && m !== "raw" && !isBegin && !isCommit) {
          get(own).statements++;
          if (conn.purpose === null && conn.pendingMs > 0) {
            // first statement of a transaction: it names the transaction, and pays for its BEGIN
            conn.purpose = own;
            get(own).transactions++;
            get(own).execMs += conn.pendingMs;
            conn.pendingMs = 0;
          }
        }
        const t = performance.now();
        try {
          return orig.apply(stmt, args);
        } finally {
          charge(performance.now() - t, "execMs");
          if (isCommit && m === "run") conn.purpose = null;
        }
      };
    }
    return stmt;
  };
}

// --- tock in-process ---------------------------------------------------------------------------------------

async function startInProcess(dbUrl: string, env: Record<string, string>) {
  const cfg = parseConfig(null, env, { db: dbUrl });
  const egress = new Egress(egressPolicy(cfg.egress), cachedResolver(systemResolver));
  const http = createHttpExecutor({ userAgent: cfg.executors.http.userAgent, maxResponseBytes: cfg.executors.http.maxResponseBytes, egress });
  const fetchStats = { calls: 0, wallMs: 0, maxInFlight: 0, inFlight: 0, calledAt: [] as number[], answeredAt: [] as number[] };
  const executors = {
    http: {
      async execute(req: Parameters<typeof http.execute>[0], signal: AbortSignal) {
        fetchStats.calls++;
        fetchStats.inFlight++;
        fetchStats.maxInFlight = Math.max(fetchStats.maxInFlight, fetchStats.inFlight);
        const t = performance.now();
        fetchStats.calledAt.push(performance.timeOrigin + t);
        try {
          return await http.execute(req, signal);
        } finally {
          const end = performance.now();
          fetchStats.answeredAt.push(performance.timeOrigin + end);
          fetchStats.wallMs += end - t;
          fetchStats.inFlight--;
        }
      },
    },
    tcp: createTcpExecutor({ connectTimeoutMs: cfg.executors.tcp.connectTimeout, maxResponseBytes: cfg.executors.tcp.maxResponseBytes, egress }),
  };
  const node = await createNode({ config: { ...cfg, scheduler: { ...cfg.scheduler, nodeId: "profile" } }, log: silentLogger, version: "profile", executors });
  const scheduler = node.deps.scheduler;
  let ticks = 0;
  let claimed = 0;
  scheduler.events.on("tick", (e) => {
    ticks++;
    claimed += e.claimed;
  });
  await node.start();
  const server = await serve({ port: 0, hostname: "127.0.0.1", maxBody: cfg.server.maxBody }, node.app.fetch);
  return {
    url: `http://127.0.0.1:${server.port}`,
    fetchStats,
    cycles: () => ({ ticks, claimed }),
    async stop() {
      await server.stop();
      await node.stop();
    },
  };
}

/** Starts measuring: resets the counters; the returned function reads them. */
function measure(t: Awaited<ReturnType<typeof startInProcess>>, reset = true) {
  if (reset) acc = new Map();
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const f0 = { ...t.fetchStats };
  const c0 = t.cycles();
  return () => {
    const wallMs = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    const rows = [...acc.entries()]
      .map(([purpose, a]) => ({ purpose, ...a, totalMs: a.prepareMs + a.execMs }))
      .sort((x, y) => y.totalMs - x.totalMs)
      .map((r) => ({ ...r, prepareMs: round(r.prepareMs, 1), execMs: round(r.execMs, 1), totalMs: round(r.totalMs, 1) }));
    const sqlMs = rows.reduce((s, r) => s + r.totalMs, 0);
    const c = t.cycles();
    return {
      wallMs: Math.round(wallMs),
      processCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      sqlOnJsThreadMs: Math.round(sqlMs),
      sqlShareOfWall: round(sqlMs / wallMs, 3),
      sql: rows,
      executor: { calls: t.fetchStats.calls - f0.calls, summedWallMs: Math.round(t.fetchStats.wallMs - f0.wallMs), maxInFlight: t.fetchStats.maxInFlight },
      claimCycles: c.ticks - c0.ticks,
      claimedInCycles: c.claimed - c0.claimed,
    };
  };
}

// --- scenarios ------------------------------------------------------------------------------------------------

const mode = process.argv[2] ?? "drain";
const arg = process.argv[3] ? Number(process.argv[3]) : undefined;

main(`profile-${mode}`, async () => {
  instrumentLibsql();
  const sink = await startSink();
  const { dir } = tempDir();
  const dbUrl = `file:${join(dir, "tock.db")}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith("TOCK_") && v !== undefined) env[k] = v;
  try {
    if (mode === "drain") {
      const n = arg ?? 20_000;
      await seedOneShots(dbUrl, "drain", n, new Date(Date.now() - 1000).toISOString(), `${sink.url}/drain`);
      await sink.reset();
      const tock = await startInProcessMeasured(dbUrl, { TOCK_SCHEDULER_MISFIRE_THRESHOLD: "1h", ...env }, async () => {
        while ((await sink.count()) < n) await sleep(20);
        await sleep(200); // the last finish writes
      });
      return { mode, n, syncNormalAll: syncAll, ...tock };
    }
    if (mode === "burst") {
      const n = arg ?? 1000;
      const tock = await startInProcess(dbUrl, env);
      try {
        const T = Date.now() + 4000 + n; // in-process creates are slower: leave room
        const made = await createJobs(tock.url, "burst", n, () => ({ dueTime: new Date(T).toISOString(), target: { http: { url: `${sink.url}/burst` } } }));
        if (made.failed) throw new Error(made.firstError);
        await sink.reset();
        if (Date.now() > T - 200) throw new Error("setup too slow");
        await sleep(T - 100 - Date.now());
        const read = measure(tock);
        while ((await sink.count()) < n && Date.now() < T + 30_000) await sleep(5);
        const arrivedMs = Date.now() - T;
        await sleep(200);
        const d = await sink.dump();
        const dist = (xs: number[]) => {
          const s = sortedNumbers(xs.map((x) => x - T));
          return { min: round(s[0]), p10: round(pct(s, 10)), p50: round(pct(s, 50)), p90: round(pct(s, 90)), p99: round(pct(s, 99)), max: round(s[s.length - 1]) };
        };
        return {
          mode,
          n,
          allArrivedMsAfterT: arrivedMs,
          markRunningPreparedAfterT: marks["mark running"].map((x) => round(x - T)).filter((x) => x > -1000),
          finishBatchesPreparedAfterT: dist(marks["finish run"].filter((x) => x > T - 1000)),
          executorCalledAfterT: dist(tock.fetchStats.calledAt),
          arrivedAtSinkAfterT: dist(d.hr),
          executorReturnedAfterT: dist(tock.fetchStats.answeredAt),
          ...read(),
        };
      } finally {
        await tock.stop();
      }
    }
    if (mode === "api") {
      const ms = arg ?? 5000;
      const tock = await startInProcess(dbUrl, env);
      try {
        const load = spawnChild([process.execPath, join(BENCH, "apiload.ts"), tock.url, sink.url, "64", "2000", String(ms)], { name: "apiload" });
        await sleep(2000);
        const read = measure(tock);
        await load.exited;
        const figures = read();
        return { mode, syncNormalAll: syncAll, load: lastJson(load.lines), ...figures };
      } finally {
        await tock.stop();
      }
    }
    throw new Error(`unknown mode ${mode}: drain | burst | api`);
  } finally {
    await sink.stop();
  }

  async function startInProcessMeasured(url: string, e: Record<string, string>, until: () => Promise<void>) {
    // Counters start before scheduler.start(): its first claim cycle is part of the drain.
    acc = new Map();
    const t0 = performance.now();
    const tock = await startInProcess(url, e);
    const read = measure(tock, false);
    try {
      await until();
      const figures = read();
      const total = performance.now() - t0;
      return { startMs: Math.round(total - figures.wallMs), executionsPerSec: Math.round((arg ?? 20_000) / (total / 1000)), ...figures };
    } finally {
      await tock.stop();
    }
  }
}, 170_000);

log(`profile ${mode}: tock in-process with SQL accounting`);
