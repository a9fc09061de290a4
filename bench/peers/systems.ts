// The three systems behind one interface: a fresh store per scenario (`reset`), the process that fires
// the jobs (`start`: tock's built binary, or the peer's worker under Bun), and each system's bulk way of
// making one-shots: due at T while it runs (`create`, after a `calibrate` of the same kind that never comes
// due), or already due while it is stopped (`seed`). Every job POSTs to the sink with a unique webhook-id.
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { makeWorkerUtils, type WorkerUtils } from "graphile-worker";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type Child, ROOT, type Sink, spawnChild, tempDir } from "../lib.ts";
import { seedOneShots } from "../seed.ts";
import type { Service } from "./services.ts";

export const TOCK_BIN = process.env.TOCK_BIN ?? join(ROOT, "dist/tock");
const HERE = import.meta.dir;

export interface Running {
  /** The processes whose CPU counts for this system (besides its store): name -> pid. */
  pids: Record<string, number>;
  spawnedAt: number;
  stop(): Promise<void>;
}

export interface System {
  name: "tock" | "bullmq" | "graphile";
  /** The store's processes (redis-server, postgres), whose CPU counts too. */
  storePids: Record<string, number>;
  reset(): Promise<void>;
  start(mode: "burst" | "drain"): Promise<Running>;
  calibrate(n: number): Promise<void>;
  create(n: number, at: number): Promise<void>;
  seed(n: number): Promise<void>;
  close(): Promise<void>;
}

function running(child: Child, name: string, spawnedAt: number): Running {
  return { pids: { [name]: child.pid }, spawnedAt, stop: () => child.stop(10_000) };
}

/** tock: the compiled binary, a fresh database file per scenario, default settings (plus TOCK_* exported). */
export function tockSystem(sink: Sink): System {
  if (!existsSync(TOCK_BIN)) throw new Error(`${TOCK_BIN} is missing: build it first (bun scripts/build.ts)`);
  let dir: ReturnType<typeof tempDir> | null = null;
  let url = "";
  const dbUrl = () => `file:${join(dir!.dir, "tock.db")}`;
  return {
    name: "tock",
    storePids: {},
    async reset() {
      dir?.cleanup();
      dir = tempDir("tock-peers-");
    },
    async start(mode) {
      const env: Record<string, string> = { TOCK_SERVER_PORT: "0", TOCK_SCHEDULER_NODE_ID: "bench-node" };
      for (const [k, v] of Object.entries(process.env)) if (k.startsWith("TOCK_") && k !== "TOCK_BIN" && v !== undefined) env[k] = v;
      if (mode === "drain") env.TOCK_SCHEDULER_MISFIRE_THRESHOLD = "1h"; // seeded slots are ordinary due slots
      env.TOCK_DATABASE_URL = dbUrl();
      const spawnedAt = Date.now();
      const c = spawnChild([TOCK_BIN, "serve"], { env, name: "tock", echo: (l) => /"level":"(warn|error)"/.test(l) || !l.startsWith("{") });
      const line = await c.waitLine((l) => l.includes('"tock serving"'), 30_000, '"tock serving" log line');
      url = JSON.parse(line).url;
      return running(c, "tock", spawnedAt);
    },
    async calibrate(n) {
      await createBatches(url, "calib", n, () => ({ dueTime: "1h", target: { http: { url: `${sink.url}/tock` } } }));
    },
    async create(n, at) {
      const dueTime = new Date(at).toISOString();
      await createBatches(url, "burst", n, () => ({ dueTime, target: { http: { url: `${sink.url}/tock` } } }));
    },
    async seed(n) {
      await seedOneShots(dbUrl(), "drain", n, new Date(Date.now() - 1000).toISOString(), `${sink.url}/tock`);
    },
    async close() {
      dir?.cleanup();
    },
  };
}

const CHUNK = 5000;

/** tock's bulk create, as the peers use theirs: POST …/jobs:batch, CHUNK jobs a request. */
async function createBatches(base: string, ns: string, n: number, body: (i: number) => Record<string, unknown>): Promise<void> {
  for (let i = 0; i < n; i += CHUNK) {
    const jobs = Array.from({ length: Math.min(CHUNK, n - i) }, (_, k) => ({ name: `job-${i + k}`, ...body(i + k) }));
    const res = await fetch(`${base}/api/v1/namespaces/${ns}/jobs:batch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobs }) });
    if (res.status !== 200) throw new Error(`tock batch create: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  }
}

/** BullMQ: jobs added by Queue.addBulk from the bench process; the worker is bullmq-worker.ts. */
export function bullmqSystem(sink: Sink, redis: Service): System {
  const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue("bench", { connection });
  const calib = new Queue("calib", { connection });
  const admin = new Redis(connection);
  const add = async (q: Queue, n: number, delay: () => number) => {
    for (let i = 0; i < n; i += CHUNK) {
      const d = delay(); // computed per chunk, just before its jobs get their timestamps: due >= T
      await q.addBulk(Array.from({ length: Math.min(CHUNK, n - i) }, () => ({ name: "hit", data: {}, opts: d > 0 ? { delay: d } : {} })));
    }
  };
  return {
    name: "bullmq",
    storePids: { "redis-server": redis.child.pid },
    async reset() {
      await admin.flushall();
    },
    async start() {
      const spawnedAt = Date.now();
      const c = spawnChild([process.execPath, join(HERE, "bullmq-worker.ts"), String(redis.port), sink.url], { name: "bullmq-worker", cwd: HERE, echo: (l) => !l.startsWith("{") });
      await c.waitLine((l) => l.includes('"ready"'), 30_000, "ready line");
      return running(c, "bullmq-worker", spawnedAt);
    },
    calibrate: (n) => add(calib, n, () => 3_600_000),
    create: (n, at) => add(queue, n, () => Math.max(1, at - Date.now())),
    seed: (n) => add(queue, n, () => 0),
    async close() {
      await Promise.all([queue.close(), calib.close()]);
      admin.disconnect();
    },
  };
}

/** graphile-worker: a fresh database per scenario, jobs added by WorkerUtils.addJobs (SQL add_jobs). */
export function graphileSystem(sink: Sink, pg: Service): System {
  let k = 0;
  let db = "";
  let utils: WorkerUtils | null = null;
  const admin = makeWorkerUtils({ connectionString: pg.url });
  const dbUrl = () => pg.url.replace(/\/postgres$/, `/${db}`);
  const add = async (n: number, runAt: () => Date) => {
    for (let i = 0; i < n; i += CHUNK) {
      const at = runAt();
      await utils!.addJobs(Array.from({ length: Math.min(CHUNK, n - i) }, () => ({ identifier: "hit", payload: {}, runAt: at })));
    }
  };
  const drop = async () => {
    if (!db) return;
    await utils?.release();
    utils = null;
    await (await admin).withPgClient((c) => c.query(`DROP DATABASE ${db} WITH (FORCE)`));
  };
  return {
    name: "graphile",
    storePids: { postgres: pg.child.pid },
    async reset() {
      await drop();
      db = `bench_${++k}`;
      await (await admin).withPgClient((c) => c.query(`CREATE DATABASE ${db}`));
      utils = await makeWorkerUtils({ connectionString: dbUrl() });
      await utils.migrate();
    },
    async start() {
      const spawnedAt = Date.now();
      const c = spawnChild([process.execPath, join(HERE, "graphile-worker.ts"), dbUrl(), sink.url], { name: "graphile-worker", cwd: HERE, echo: (l) => !l.startsWith("{") });
      await c.waitLine((l) => l.includes('"ready"'), 30_000, "ready line");
      return running(c, "graphile-worker", spawnedAt);
    },
    calibrate: (n) => add(n, () => new Date(Date.now() + 3_600_000)),
    create: (n, at) => add(n, () => new Date(at)),
    seed: async (n) => {
      await add(n, () => new Date(Date.now() - 1000));
      // PEERS_PG_ANALYZE=1: fresh planner statistics for the 100,000 new rows before the worker starts (off by
      // default: the drain then depends on whether autovacuum's analyze ran meanwhile; see docs/performance.md).
      if (process.env.PEERS_PG_ANALYZE === "1") await utils!.withPgClient((c) => c.query("ANALYZE"));
    },
    async close() {
      await drop();
      await (await admin).release();
    },
  };
}
