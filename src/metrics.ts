// A node's Prometheus metrics (GET /metrics): counters and histograms fed as things happen (a run ends, a
// claim cycle ends, a database call returns, an HTTP request is answered), gauges read when scraped.
// prom-client keeps and formats them, one registry per node. A leaf: the parts that feed it import nothing
// else for it, and the store is handed a callback (it imports no other part).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What a scrape reads from the node at that moment. */
export interface Readings {
  /** Runs executing on this node now. */
  inFlight(): number;
  /** Runs this node has claimed and not started (waiting for their time, for capacity, or for their job's earlier run). */
  held(): number;
  /** Nodes whose heartbeat is current, as this node last saw them (0 while the scheduler is stopped). */
  liveNodes(): number;
  /** Jobs of the whole database by state (scheduled, paused, manual, finished). */
  jobs(): Promise<Record<string, number>>;
}

/** The histogram buckets of run lateness and duration, in seconds: from a millisecond to an hour. */
const TIMES = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Database calls and HTTP requests: from a tenth of a millisecond to ten seconds. */
const FAST = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Runs claimed by one cycle. */
const SIZES = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];
/** How a run can end (tock_runs_finished_total's status). */
const FINAL_STATUSES = ["succeeded", "failed", "timed_out", "killed", "skipped"];
/** The methods counted by name. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Every state a job can be in: each is exported, 0 included, so a state that empties reads 0. */
const JOB_STATES = ["scheduled", "paused", "manual", "finished"];

export type DbCall = "read" | "write";


export class Metrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  readonly #runs: Counter<"target" | "status">;
  readonly #lost: Counter;
  readonly #lateness: Histogram<"target">;
  readonly #duration: Histogram<"target" | "status">;
  readonly #cycle: Histogram;
  readonly #batch: Histogram;
  readonly #db: Histogram<"kind">;
  readonly #dbErrors: Counter<"kind">;
  readonly #http: Counter<"method" | "route" | "status">;
  readonly #httpTime: Histogram<"method" | "route">;
  #readings: Readings | null = null;
  /** The job count under way: scrapes at once share one. */
  #jobCounts: Promise<Record<string, number>> | null = null;

  /** `targets`: the target kinds, whose run counters start at 0 (an alert on increase() sees the first run). */
  constructor(info: { version: string; runtime: string; node: string }, targets: readonly string[] = []) {
    const registers = [this.registry];
    new Gauge({ name: "tock_build_info", help: "Always 1: the version, runtime and node id of this tock.", labelNames: ["version", "runtime", "node"], registers }).set(info, 1);
    new Gauge({ name: "tock_start_time_seconds", help: "When this tock process started, in Unix seconds.", registers }).set(Math.round(Date.now() / 1000));
    this.#runs = new Counter({ name: "tock_runs_finished_total", help: "Runs that ended on this node, by target kind and final status.", labelNames: ["target", "status"], registers });
    this.#lost = new Counter({ name: "tock_runs_lost_total", help: "Runs in flight that this node ended lost (their node died, stopped or restarted before they finished); a recovery attempt follows while the job's retry policy allows.", registers });
    this.#lateness = new Histogram({ name: "tock_run_lateness_seconds", help: "How long after its due time a run started.", labelNames: ["target"], buckets: TIMES, registers });
    this.#duration = new Histogram({ name: "tock_run_duration_seconds", help: "How long a run took, from its start to its end.", labelNames: ["target", "status"], buckets: TIMES, registers });
    this.#cycle = new Histogram({ name: "tock_claim_cycle_seconds", help: "How long one claim cycle took (recovery, claims, lease renewal).", buckets: FAST, registers });
    this.#batch = new Histogram({ name: "tock_claim_batch_size", help: "Runs claimed by one claim cycle.", buckets: SIZES, registers });
    this.#db = new Histogram({ name: "tock_db_call_seconds", help: "Database calls: one statement (read) or one write transaction (write), busy retries each counted.", labelNames: ["kind"], buckets: FAST, registers });
    this.#dbErrors = new Counter({ name: "tock_db_call_errors_total", help: "Database calls that failed (a locked database's busy errors included).", labelNames: ["kind"], registers });
    this.#http = new Counter({ name: "tock_http_requests_total", help: "HTTP requests answered, by method, route pattern and status.", labelNames: ["method", "route", "status"], registers });
    this.#httpTime = new Histogram({ name: "tock_http_request_seconds", help: "How long HTTP requests took to answer (a stream: until its headers).", labelNames: ["method", "route"], buckets: FAST, registers });
    // Counters an alert takes increase() of exist from the start at 0: a series born at 1 has no increase.
    for (const target of targets) for (const status of FINAL_STATUSES) this.#runs.labels(target, status).inc(0);
    for (const kind of ["read", "write"]) this.#dbErrors.labels(kind).inc(0);
    const self = this;
    new Gauge({
      name: "tock_runs_in_flight",
      help: "Runs executing on this node now.",
      registers,
      collect() {
        this.set(self.#readings?.inFlight() ?? 0);
      },
    });
    new Gauge({
      name: "tock_runs_held",
      help: "Runs this node has claimed and not started: waiting for their due time, for capacity or for their job's earlier run.",
      registers,
      collect() {
        this.set(self.#readings?.held() ?? 0);
      },
    });
    new Gauge({
      name: "tock_nodes_live",
      help: "Nodes sharing the database whose heartbeat is current, as this node sees them.",
      registers,
      collect() {
        this.set(self.#readings?.liveNodes() ?? 0);
      },
    });
    new Gauge({
      name: "tock_jobs",
      help: "Jobs in the database by state (every namespace).",
      labelNames: ["state"],
      registers,
      async collect() {
        if (!self.#readings) return;
        try {
          const counts = await self.#jobsByState();
          for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
        } catch {
          this.reset(); // no figure rather than a stale one; the rest of the scrape stands
        }
      },
    });
  }

  /** Where the gauges read from (the node, once it is built). */
  readFrom(readings: Readings): void {
    this.#readings = readings;
  }

  /**
   * A run ended; `startedAt` null when it never started (no duration, no lateness), `dueAt` null when its
   * lateness is not this node's to count (it waited for its job's earlier run).
   */
  runEnded(target: string, status: string, dueAt: number | null, startedAt: number | null, endedAt: number): void {
    this.#runs.inc({ target, status });
    if (startedAt === null) return;
    if (dueAt !== null) this.#lateness.observe({ target }, Math.max(0, startedAt - dueAt) / 1000);
    this.#duration.observe({ target, status }, Math.max(0, endedAt - startedAt) / 1000);
  }

  runsLost(n: number): void {
    this.#lost.inc(n);
  }

  claimCycle(ms: number, claimed: number): void {
    this.#cycle.observe(ms / 1000);
    this.#batch.observe(claimed);
  }

  dbCall(kind: DbCall, ms: number, ok: boolean): void {
    this.#db.observe({ kind }, ms / 1000);
    if (!ok) this.#dbErrors.inc({ kind });
  }

  /** A request answered; a method outside the usual ones counts as "other" (a client may send any word). */
  httpRequest(method: string, route: string, status: number, ms: number): void {
    if (!METHODS.has(method)) method = "other";
    this.#http.inc({ method, route, status: String(status) });
    this.#httpTime.observe({ method, route }, ms / 1000);
  }

  /** The exposition text. A job count that cannot be read leaves tock_jobs out of this scrape, not the rest. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  #jobsByState(): Promise<Record<string, number>> {
    this.#jobCounts ??= this.#readings!.jobs().finally(() => {
      this.#jobCounts = null;
    });
    return this.#jobCounts;
  }
}
