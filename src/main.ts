// The CLI: serve | migrate | check-config | version. The only module with side effects at import.
import { writeSync } from "node:fs";
import { hostname } from "node:os";
import process from "node:process";
import { parseArgs } from "node:util";
import { createApp } from "./app.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import type { Deps } from "./deps.ts";
import { createExecutors } from "./executors/index.ts";
import { createLogger, type Logger } from "./log.ts";
import { Egress, egressPolicy } from "./net/egress.ts";
import { cachedResolver, systemResolver } from "./net/resolve.ts";
import { runtimeName, serve } from "./runtime/serve.ts";
import { systemClock } from "./scheduler/clock.ts";
import { Pruner } from "./scheduler/pruner.ts";
import { compatHooks } from "./compat/index.ts";
import { processOptions, Scheduler } from "./scheduler/scheduler.ts";
import { openStore } from "./store/client.ts";
import { VERSION } from "./version.ts";

const USAGE = `tock ${VERSION}: a job scheduler in one executable

Usage:
  tock serve [--config tock.toml] [--port 8080] [--db file:tock.db]   run the API and the scheduler
  tock migrate [--config …] [--db …]                                  apply database migrations and exit
  tock check-config [--config …]                                      validate the configuration and exit
  tock version                                                        print the version

Every config key can also be set from the environment: TOCK_SERVER_PORT=9000, TOCK_DATABASE_URL=…
`;

function config(values: { config?: string; port?: string; db?: string }): Config {
  const port = values.port !== undefined ? Number(values.port) : undefined;
  return loadConfig({ file: values.config, env: process.env, flags: { port, db: values.db } });
}

async function serveCommand(cfg: Config, log: Logger) {
  const store = await openStore(
    { url: cfg.database.url, authToken: cfg.database.authToken, syncUrl: cfg.database.syncUrl, syncIntervalMs: cfg.database.syncInterval },
    { connectTimeoutMs: 15_000 },
  );
  // One resolver cache and policy for the executors and the scheduler's per-host keys.
  const egress = new Egress(egressPolicy(cfg.egress), cachedResolver(systemResolver));
  const executors = createExecutors(cfg, { egress });
  const scheduler = new Scheduler({ store, clock: systemClock, log, executors, egress, config: cfg.scheduler, version: VERSION, ...processOptions(cfg) });
  const pruner = new Pruner({ store, clock: systemClock, log, config: cfg.history });
  const deps: Deps = { store, clock: systemClock, log, config: cfg, executors, scheduler, version: VERSION };
  const app = createApp(deps);
  // Listen first: a second process on the same host and port (so the same default node id) fails here,
  // before its scheduler could take the first one's runs for its own.
  const server = serve({ port: cfg.server.port, hostname: cfg.server.host, maxBody: cfg.server.maxBody }, app.fetch);
  const unhook = compatHooks(deps);
  await scheduler.start();
  pruner.start();
  if (cfg.executors.process.enabled) log.warn("process, script and container jobs are enabled: anyone who can reach the API can run commands as this user");
  log.info("tock serving", { url: `http://${cfg.server.host}:${server.port}`, node: cfg.scheduler.nodeId, database: cfg.database.url, runtime: runtimeName, version: VERSION });

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      process.exit(1);
    }
    log.info("stopping", { signal, graceMs: cfg.scheduler.shutdownGrace });
    stopping = (async () => {
      await server.stop().catch(() => {});
      await pruner.stop();
      await scheduler.stop();
      unhook();
      store.close();
      log.info("stopped");
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      port: { type: "string", short: "p" },
      db: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0] ?? "help";
  if (values.help || command === "help") return void process.stdout.write(USAGE);
  if (command === "version") return void process.stdout.write(`tock ${VERSION} (${runtimeName})\n`);
  if (!["serve", "migrate", "check-config"].includes(command)) fatal(`unknown command: ${command}\n\n${USAGE}`, 2);
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new ConfigError([{ path: "flag --port", message: "must be an integer" }]);
  const cfg = config(values);
  // The default node id is the host name; two processes on one host must not share an id (each would take
  // the other's runs for its own), so it becomes host:port (host:pid for a port picked at random).
  if (cfg.scheduler.nodeId === hostname()) cfg.scheduler.nodeId = `${hostname()}:${cfg.server.port || process.pid}`;
  const log = createLogger({ level: cfg.log.level, format: cfg.log.format });
  switch (command) {
    case "check-config":
      process.stdout.write("configuration is valid\n");
      return;
    case "migrate": {
      const store = await openStore({ url: cfg.database.url, authToken: cfg.database.authToken, syncUrl: cfg.database.syncUrl, syncIntervalMs: cfg.database.syncInterval });
      store.close();
      process.stdout.write("migrations applied\n");
      return;
    }
    case "serve":
      return serveCommand(cfg, log);
  }
}

/** Writes synchronously: output queued on a pipe is lost when process.exit follows at once. */
const fatal = (text: string, code: number): never => {
  writeSync(2, text);
  process.exit(code);
};

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof ConfigError) fatal(`${e.message}\n`, 2);
  fatal(`tock: ${e instanceof Error ? e.message : String(e)}\n`, 1);
});
