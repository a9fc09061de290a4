// One tock node, wired: the database, the key ring, the secret box, the egress policy, the executors, the
// scheduler, the history pruner, the outbox's deliverer and the app over them. main.ts, the tests and the
// benches build a node here, so they run the same wiring. Nothing listens or starts until `start`.
import type { RouteDeps } from "./api/deps.ts";
import { createApp } from "./app.ts";
import { type Clock, systemClock } from "./clock.ts";
import { deliveryRenderers } from "./compat/index.ts";
import type { Config } from "./config.ts";
import { KeyRing } from "./domain/keys.ts";
import { TARGET_KINDS } from "./domain/schemas.ts";
import { SecretBox } from "./domain/secrets.ts";
import { createExecutors } from "./executors/index.ts";
import { sweepScriptFolders } from "./executors/script.ts";
import type { Executors } from "./executors/types.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { Egress, egressPolicy } from "./net/egress.ts";
import { cachedResolver, type Resolver, systemResolver } from "./net/resolve.ts";
import type { RenderDelivery } from "./domain/deliveries.ts";
import { Deliverer } from "./scheduler/deliveries.ts";
import { Notifier } from "./scheduler/notifier.ts";
import { Pruner } from "./scheduler/pruner.ts";
import { processOptions } from "./scheduler/execute.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { openStore, type Store } from "./store/client.ts";
import { jobsByState } from "./store/namespaces.ts";
import { runtimeName } from "./runtime/serve.ts";
import { VERSION } from "./version.ts";

/** Everything a node's parts are given: the routes' deps, and the scheduler and executors themselves. */
export interface Deps extends RouteDeps {
  scheduler: Scheduler;
  executors: Executors;
}

export interface NodeOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  version?: string;
  /** A database already open (a test's, wrapped to inject faults); else opened from `[database]`. */
  store?: Store;
  /** How long opening the database (and a replica's first sync) may take. */
  connectTimeoutMs?: number;
  /** The [secrets] keys, sealing one first (main reads key files); else `key` and `previous_key` as given. */
  secretKeys?: (string | undefined)[];
  /** How host names resolve; the system's, cached, by default. */
  resolver?: Resolver;
  /** Executors to run with instead of the configured ones (a bench's, measuring its calls). */
  executors?: Executors;
}

export interface TockNode {
  deps: Deps;
  app: ReturnType<typeof createApp>;
  /** Starts the scheduler, the pruner and the deliverer. */
  start(): Promise<void>;
  /** Stops them, flushes what waits to be written and closes the database. Idempotent. */
  stop(): Promise<void>;
}

export async function createNode(opts: NodeOptions): Promise<TockNode> {
  const { config, log } = opts;
  const clock = opts.clock ?? systemClock;
  const version = opts.version ?? VERSION;
  const store = opts.store ?? (await openStore(databaseOf(config), { connectTimeoutMs: opts.connectTimeoutMs, warn: log.warn, checkpointThread: true }));
  try {
    const keys = new KeyRing({ store, clock, log }, { rate: config.limits.rate, burst: config.limits.burst });
    const secrets = await SecretBox.create(opts.secretKeys ?? [config.secrets.key, config.secrets.previousKey]);
    // One resolver cache and policy for the executors and the scheduler's per-host keys.
    const egress = new Egress(egressPolicy(config.egress), opts.resolver ?? cachedResolver(systemResolver));
    const executors = opts.executors ?? createExecutors(config, { egress });
    // The facades' stored deliveries (Juice's completion callbacks), sent by any node. Their renderers read
    // through the deps the scheduler is part of, so they are filled in once those exist.
    const renderers: Record<string, RenderDelivery> = {};
    const deliverer = new Deliverer({ store, clock, log, executors, nodeId: config.scheduler.nodeId, renderers, pollMs: deliveryPollMs(config) });
    // Notifications stored with run and instance ends ([notify], jobs' and workflows' notify), sent by any node.
    const notify = config.notify;
    const notifier = new Notifier({ store, clock, log, executors, nodeId: config.scheduler.nodeId, minIntervalMs: notify.minInterval, pollMs: deliveryPollMs(config) });
    const metrics = config.metrics.enabled ? new Metrics({ version, runtime: runtimeName, node: config.scheduler.nodeId }, TARGET_KINDS) : undefined;
    const scheduler = new Scheduler({ store, clock, log, executors, egress, config: config.scheduler, version, secrets, limits: config.limits, deliveries: deliverer, notify, notifications: notifier, runLog: config.log.runs, metrics, ...processOptions(config) });
    const pruner = new Pruner({ store, clock, log, config: config.history });
    const observe = metrics && watch(store, metrics, scheduler);
    const deps: Deps = { store, clock, log, config, executors, scheduler, keys, secrets, version, metrics };
    Object.assign(renderers, deliveryRenderers(deps));
    const app = createApp(deps);
    let stopping: Promise<void> | null = null;
    return {
      deps,
      app,
      async start() {
        if (config.executors.process.enabled) {
          // Script folders of a tock that died (kill -9) before removing them.
          const swept = await sweepScriptFolders(config.executors.script.tempDir);
          if (swept > 0) log.info("removed script folders left by tock processes that died", { folders: swept });
        }
        await scheduler.start();
        pruner.start();
        deliverer.start();
        notifier.start();
      },
      stop() {
        stopping ??= (async () => {
          await pruner.stop();
          await scheduler.stop();
          await deliverer.stop();
          await notifier.stop();
          await keys.flush();
          if (store.observe === observe) store.observe = undefined;
          store.close();
        })();
        return stopping;
      },
    };
  } catch (e) {
    if (!opts.store) store.close(); // a store the caller gave stays the caller's
    throw e;
  }
}

/** The metrics' readings of this node and its database; returns the store's call observer it installed. */
function watch(store: Store, metrics: Metrics, scheduler: Scheduler): Store["observe"] {
  const observe: Store["observe"] = (kind, ms, ok) => metrics.dbCall(kind, ms, ok);
  store.observe = observe;
  metrics.readFrom({
    inFlight: () => scheduler.stats.inFlight,
    held: () => scheduler.stats.held,
    liveNodes: () => scheduler.stats.liveNodes,
    jobs: () => jobsByState(store),
  });
  return observe;
}

/**
 * How often a node looks for deliveries it was not told of: a node sends those its own run ends store at
 * once, so the poll only finds what a dead node left or a retry another node scheduled.
 */
const deliveryPollMs = (cfg: Config) => Math.max(10_000, cfg.scheduler.pollInterval * 10);

export function databaseOf(cfg: Config) {
  return { url: cfg.database.url, authToken: cfg.database.authToken, syncUrl: cfg.database.syncUrl, syncIntervalMs: cfg.database.syncInterval, busyTimeoutMs: cfg.database.busyTimeout };
}
