// The CLI: serve | migrate | check-config | keys | backup | version, and the client commands (src/cli/index.ts).
// The only module with side effects at import.
import { existsSync, readFileSync, writeSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { exposure } from "./api/auth.ts";
import { defaultHostNames } from "./api/requests.ts";
import { CLIENT_WORDS, clientUsage, isClientCommand, runClient } from "./cli/index.ts";
import { KEYS_USAGE, keysCommand } from "./cli/keys.ts";
import { type Config, ConfigError, configFile, loadConfig } from "./config.ts";
import { nearest } from "./config/load.ts";
import { DomainError } from "./domain/errors.ts";
import { isSecretsKey } from "./config/security.ts";
import { createLogger, type Logger, maskFields, maskSecrets } from "./log.ts";
import { isLoopbackHost } from "./net/address.ts";
import { loadTls } from "./config/tls.ts";
import { assertServable, runtimeName, serve } from "./runtime/serve.ts";
import { createNode, databaseOf } from "./node.ts";
import { openStore } from "./store/client.ts";
import { backupTo } from "./store/system.ts";
import { VERSION } from "./version.ts";

const USAGE = `tock ${VERSION}: a job scheduler in one executable

Usage:
  tock serve [--config tock.toml] [--port 8080] [--db file:tock.db]   run the API and the scheduler
  tock migrate [--config …] [--db …]                                  apply database migrations and exit
  tock check-config [--config …] [--print]                            validate the configuration, say which file was read, and exit;
                                                                      --print shows the effective configuration (secrets masked)
  tock keys create|list|revoke …                                      API keys (tock keys --help)
  tock backup PATH [--config …] [--db …]                              an online, consistent copy of a database file
                                                                      (while tock serves it); PATH must not exist
  tock version                                                        print the version (also tock --version)

Client commands, against a running server (--server URL or TOCK_SERVER, --token KEY or TOCK_TOKEN):
${clientUsage()}
Every config key can also be set from the environment: TOCK_SERVER_PORT=9000, TOCK_DATABASE_URL=…
`;

function config(values: { config?: string; port?: string; db?: string }): Config {
  const port = values.port !== undefined ? Number(values.port) : undefined;
  return loadConfig({ file: values.config, env: process.env, flags: { port, db: values.db } });
}

/** The TLS files read and checked, and refused if this runtime cannot serve them: before a database is opened. */
function transport(cfg: Config) {
  const tls = loadTls(cfg.server.tls);
  assertServable({ tls });
  return tls;
}

async function serveCommand(cfg: Config, log: Logger) {
  const tls = transport(cfg);
  const secretKeyList = secretKeys(cfg); // key files are read before anything opens, like the TLS files
  const node = await createNode({ config: cfg, log, secretKeys: secretKeyList, connectTimeoutMs: 15_000 });
  await node.deps.keys.refresh();
  const problems = exposure(cfg, node.deps.keys.usable());
  if (problems.refuse) {
    await node.stop();
    throw new Error(problems.refuse);
  }
  for (const w of problems.warnings) log.warn(w);
  if (!node.deps.secrets.sealing) log.info("[secrets] key is not set: secret header and variable values are stored in the database as given (never shown by the API)");
  // Listen first: a second process on the same host and port (so the same default node id) fails here,
  // before its scheduler could take the first one's runs for its own.
  let server;
  try {
    // (The server takes the larger of the two limits; the app holds each route to its own.)
    const maxBody = Math.max(cfg.server.maxBody, cfg.server.maxBatchBody);
    server = await serve({ port: cfg.server.port, hostname: cfg.server.host, maxBody, tls, socket: cfg.server.socket }, node.app.fetch);
  } catch (e) {
    await node.stop();
    throw e;
  }
  await node.start();
  if (cfg.executors.process.enabled) log.warn("process, script and container jobs are enabled: anyone who can reach the API can run commands as this user");
  const socket = server.socket ? { socket: server.socket } : {};
  // The logger masks the database URL's token and password.
  log.info("tock serving", { url: server.url, ...socket, node: cfg.scheduler.nodeId, database: cfg.database.url, runtime: runtimeName, version: VERSION });
  // Clients that reach it by another name (a load balancer's, a service name) get 421 until it is listed.
  if (cfg.server.hosts.length === 0 && !isLoopbackHost(cfg.server.host)) log.info("answering requests for these host names and addresses only; list others in [server] hosts", { hosts: defaultHostNames(cfg.server.host) });

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      process.exit(1);
    }
    log.info("stopping", { signal, graceMs: cfg.scheduler.shutdownGrace });
    stopping = (async () => {
      await server.stop().catch(() => {});
      await node.stop();
      log.info("stopped");
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

const SERVER_COMMANDS = ["serve", "migrate", "check-config", "keys", "backup", "version", "help"];

const SERVER_OPTIONS = {
  config: { type: "string", short: "c" },
  port: { type: "string", short: "p" },
  db: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  // tock keys
  role: { type: "string" },
  namespace: { type: "string", multiple: true },
  "all-namespaces": { type: "boolean" },
  name: { type: "string" },
  expires: { type: "string" },
  json: { type: "boolean" },
  // tock check-config
  print: { type: "boolean" },
} as const;

/** The server commands' flags parsed; an unknown one is a usage error naming the nearest known flag. */
function serverArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: SERVER_OPTIONS });
  } catch (e) {
    const given = /'(-[^']*)'/.exec((e as Error).message)?.[1];
    if ((e as { code?: string }).code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION" || !given) return fatal(`tock: ${(e as Error).message}\n`, 2);
    const guess = nearest(given.split("=")[0], Object.keys(SERVER_OPTIONS).map((k) => `--${k}`), 3);
    return fatal(`tock: unknown flag ${given}${guess ? `; did you mean ${guess}?` : ""} (tock --help lists the commands and flags)\n`, 2);
  }
}

async function main(argv: string[]) {
  if (isClientCommand(argv)) {
    const code = await runClient(argv);
    process.exit(code);
  }
  const { values, positionals } = serverArgs(argv);
  const command = positionals[0] ?? "help";
  if (values.help && command === "keys") return void process.stdout.write(`${KEYS_USAGE}\n`);
  if (command === "version" || values.version) return void process.stdout.write(`tock ${VERSION} (${runtimeName})\n`);
  if (values.help || command === "help") return void process.stdout.write(USAGE);
  if (!SERVER_COMMANDS.includes(command)) {
    const guess = nearest(command, [...SERVER_COMMANDS, ...CLIENT_WORDS], 3);
    fatal(`tock: unknown command: ${command}${guess ? `; did you mean \`tock ${guess}\`?` : ""} (tock --help lists the commands)\n`, 2);
  }
  if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new ConfigError([{ path: "flag --port", message: "must be an integer" }]);
  const cfg = config(values);
  // The server logs to stdout; the other commands keep stdout for what they print (a new key, a list).
  const log = createLogger({ level: cfg.log.level, format: cfg.log.format, stream: command === "serve" ? "stdout" : "stderr" });
  switch (command) {
    case "check-config": {
      transport(cfg);
      secretKeys(cfg);
      const file = configFile({ file: values.config, env: process.env });
      process.stdout.write(`configuration is valid (${file ? `read ${file}` : "no file read: defaults"}, with the TOCK_* environment and flags over it)\n`);
      if (values.print) process.stdout.write(`${JSON.stringify(maskFields(cfg as unknown as Record<string, unknown>), null, 2)}\n`);
      return;
    }
    case "migrate": {
      const store = await openStore(databaseOf(cfg), { warn: log.warn });
      store.close();
      process.stdout.write("migrations applied\n");
      return;
    }
    case "backup": {
      const target = positionals[1];
      if (!target) fatal("tock backup: give the path of the copy to write: tock backup PATH\n", 2);
      if (existsSync(target!)) fatal(`tock backup: ${target} exists already; give a new path\n`, 2);
      if (!cfg.database.url.startsWith("file:") || cfg.database.syncUrl) {
        fatal("tock backup copies a local database file; a libSQL server or Turso database is backed up by the server's own means\n", 2);
      }
      const store = await openStore(databaseOf(cfg), { warn: log.warn, migrate: false });
      try {
        await backupTo(store, target!);
      } finally {
        store.close();
      }
      process.stdout.write(`wrote ${target}: a consistent copy of ${cfg.database.url}\n`);
      return;
    }
    case "keys": {
      const { role, namespace, name, expires, json } = values;
      process.stdout.write(await keysCommand(cfg, log, positionals[1], positionals.slice(2), { role, namespace, allNamespaces: values["all-namespaces"], name, expires, json }));
      return;
    }
    case "serve":
      return serveCommand(cfg, log);
  }
}

/** The [secrets] keys, sealing one first, read from key_file where one is named. */
function secretKeys(cfg: Config): (string | undefined)[] {
  const read = (value: string | undefined, file: string | undefined, path: string) => {
    if (file === undefined) return value;
    let text: string;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (e) {
      throw new ConfigError([{ path, message: `cannot read ${file}: ${(e as Error).message}` }]);
    }
    if (!isSecretsKey(text)) throw new ConfigError([{ path, message: `${file} must hold the base64 of 32 random bytes (e.g. \`openssl rand -base64 32\`)` }]);
    return text;
  };
  const s = cfg.secrets;
  return [read(s.key, s.keyFile, "secrets.key_file"), read(s.previousKey, s.previousKeyFile, "secrets.previous_key_file")];
}

/**
 * Writes synchronously: output queued on a pipe is lost when process.exit follows at once. Scrubbed like a
 * log line: a failure to open the database quotes its URL, token and all.
 */
const fatal = (text: string, code: number): never => {
  writeSync(2, maskSecrets(text));
  process.exit(code);
};

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof ConfigError) fatal(`${e.message}\n`, 2);
  if (e instanceof DomainError) fatal(`tock: ${e.message}\n`, 2);
  fatal(`tock: ${e instanceof Error ? e.message : String(e)}\n`, 1);
});
