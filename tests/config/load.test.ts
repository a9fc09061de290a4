import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { type Config, ConfigError, envName, loadConfig, parseConfig } from "../../src/config.ts";

const EXAMPLE = readFileSync(new URL("../../tock.example.toml", import.meta.url), "utf8");

/** The issues parseConfig reports, or fails the test when it succeeds. */
function issuesOf(toml: string | null, env: Record<string, string | undefined> = {}, flags = {}) {
  try {
    parseConfig(toml, env, flags, "tock.toml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

function pathsOf(toml: string | null, env: Record<string, string | undefined> = {}, flags = {}) {
  return issuesOf(toml, env, flags).map((i) => i.path);
}

/** Every key of a TOML table or Config, flattened to dotted paths. */
function leafPaths(value: object, prefix = ""): string[] {
  return Object.entries(value).flatMap(([k, v]) =>
    v && typeof v === "object" ? leafPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]
  );
}

const snakeToCamel = (path: string) => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const SERVER_EXTRAS = { maxBatchBody: 32 * 1024 * 1024, hosts: [], corsOrigins: [], socket: undefined, tls: { cert: undefined, key: undefined, clientCa: undefined } };

const DEFAULTS: Config = {
  server: { host: "127.0.0.1", port: 8080, maxBody: 1024 * 1024, ...SERVER_EXTRAS },
  database: { url: "file:tock.db", authToken: undefined, syncUrl: undefined, syncInterval: 5000, busyTimeout: 5000 },
  scheduler: {
    nodeId: `${hostname()}:8080`,
    lookahead: 5000,
    pollInterval: 1000,
    batchSize: 500,
    lease: 30_000,
    shutdownGrace: 30_000,
    defaultTimeout: 30_000,
    misfireThreshold: 5000,
    misfireAllCap: 100,
    minEvery: 1000,
    maxInFlight: 1024,
    maxInFlightPerHost: 64,
    maxHeld: 20_000,
    maxClockSkew: 2000,
    heartbeat: 1000,
    nodeTimeout: 5000,
    defaultRetry: { times: 0, interval: 1000, backoff: "exponential", maxInterval: 60_000, jitter: 0.2 },
  },
  executors: {
    http: { userAgent: "tock", maxResponseBytes: 65536 },
    tcp: { maxResponseBytes: 65536, connectTimeout: 5000 },
    process: {
      enabled: false,
      allowedCommands: [],
      passEnv: ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"],
      allowInheritEnv: false,
      shell: ["/bin/sh", "-c"],
      workingDir: undefined,
      killGrace: 5000,
      maxLogBytes: 1024 * 1024,
      tailLines: 20,
    },
    script: {
      interpreters: { shell: ["/bin/sh"], bash: ["/bin/bash"], python: ["python3"], node: ["node"], typescript: ["@runtime"], javascript: ["@runtime"] },
      tempDir: undefined,
    },
    container: { cli: undefined, runArgs: [] },
  },
  history: { keepPerJob: 1000, maxAge: 30 * 86_400_000, pruneInterval: 60_000, pruneBatch: 500 },
  compat: {
    dcs: true,
    dcsMaxRequests: 256,
    dcsHistorySize: 10,
    dapr: true,
    daprNamespace: "dapr",
    daprAppUrl: undefined,
    daprMinEvery: 1,
    alauda: true,
    alaudaRegion: "BEIJING1",
    alaudaNotifyUrl: undefined,
    juice: true,
    schedulerx: true,
    schedulerxJavaCommand: [],
    schedulerxAlarmUrl: undefined,
  },
  log: { level: "info", format: "json", runs: "failures" },
  metrics: { enabled: true },
  auth: { mode: "auto" },
  egress: { preset: "default", allow: [], deny: [], namespaces: {} },
  callbacks: { signingSecret: undefined, previousSigningSecret: undefined, namespaces: {} },
  secrets: { key: undefined, keyFile: undefined, previousKey: undefined, previousKeyFile: undefined },
  limits: { maxJobs: 100_000, maxInFlight: 512, rate: { count: 100, perMs: 1000 }, burst: 200, maxConcurrentRequests: 1024, namespaces: {} },
  notify: { minInterval: 300_000, namespaces: {} },
};

describe("defaults", () => {
  test("no file and no environment gives the documented defaults", () => {
    expect(parseConfig(null, {})).toEqual(DEFAULTS);
  });

  test("an empty file gives the defaults", () => {
    expect(parseConfig("", {})).toEqual(DEFAULTS);
  });

  test("empty sections give the defaults", () => {
    expect(parseConfig("[server]\n[scheduler.default_retry]\n[executors.tcp]\n", {})).toEqual(DEFAULTS);
  });
});

describe("file values", () => {
  test("snake_case keys become camelCase fields with converted durations and sizes", () => {
    const config = parseConfig(
      `
[server]
host = "0.0.0.0"
port = 9000
max_body = "512KiB"

[database]
url = "file:replica.db"
auth_token = "secret"
sync_url = "libsql://primary.example.turso.io"
sync_interval = "10s"

[scheduler]
node_id = "node-a"
lookahead = "2s"
poll_interval = "250ms"
batch_size = 100
lease = "1m"
shutdown_grace = "0s"
default_timeout = "1h30m"
misfire_threshold = "0"
misfire_all_cap = 10
min_every = "5s"
max_in_flight = 64
max_in_flight_per_host = 16
max_held = 500

[scheduler.default_retry]
times = 3
interval = "2s"
backoff = "fixed"
max_interval = "10m"
jitter = 0

[executors.http]
user_agent = "tock-test"
max_response_bytes = "1KiB"

[executors.tcp]
max_response_bytes = 128
connect_timeout = "500ms"

[executors.process]
enabled = true
allowed_commands = ["/usr/bin/backup"]
pass_env = ["PATH"]
allow_inherit_env = true
shell = "/bin/bash"
working_dir = "/srv"
kill_grace = "1s"
max_log_bytes = "64KiB"
tail_lines = 5

[executors.script]
temp_dir = "/var/tmp"
interpreters = { python = ["python3", "-u"], ruby = "ruby", node = [] }

[executors.container]
cli = "podman"
run_args = ["--network=host"]

[history]
keep_per_job = 10
max_age = "90d"
prune_interval = "10s"
prune_batch = 50

[compat]
dcs = false
dcs_max_requests = 8
dcs_history_size = 50
dapr = true
dapr_namespace = "apps"
dapr_app_url = "http://127.0.0.1:3000"
alauda = false
alauda_region = "SHANGHAI"
juice = false
schedulerx = true
schedulerx_java_command = ["/opt/runner/java-job"]

[log]
level = "debug"
format = "text"
`,
      {},
    );
    expect(config).toEqual({
      server: { host: "0.0.0.0", port: 9000, maxBody: 512 * 1024, ...SERVER_EXTRAS },
      database: {
        url: "file:replica.db",
        authToken: "secret",
        syncUrl: "libsql://primary.example.turso.io",
        syncInterval: 10_000,
        busyTimeout: 5000,
      },
      scheduler: {
        nodeId: "node-a",
        lookahead: 2000,
        pollInterval: 250,
        batchSize: 100,
        lease: 60_000,
        shutdownGrace: 0,
        defaultTimeout: 5_400_000,
        misfireThreshold: 0,
        misfireAllCap: 10,
        minEvery: 5000,
        maxInFlight: 64,
        maxInFlightPerHost: 16,
        maxHeld: 500,
        maxClockSkew: 2000,
        heartbeat: 1000,
        nodeTimeout: 5000,
        defaultRetry: { times: 3, interval: 2000, backoff: "fixed", maxInterval: 600_000, jitter: 0 },
      },
      executors: {
        http: { userAgent: "tock-test", maxResponseBytes: 1024 },
        tcp: { maxResponseBytes: 128, connectTimeout: 500 },
        process: {
          enabled: true,
          allowedCommands: ["/usr/bin/backup"],
          passEnv: ["PATH"],
          allowInheritEnv: true,
          shell: ["/bin/bash"],
          workingDir: "/srv",
          killGrace: 1000,
          maxLogBytes: 64 * 1024,
          tailLines: 5,
        },
        script: {
          tempDir: "/var/tmp",
          // Merged over the defaults; [] removes node.
          interpreters: { shell: ["/bin/sh"], bash: ["/bin/bash"], python: ["python3", "-u"], typescript: ["@runtime"], javascript: ["@runtime"], ruby: ["ruby"] },
        },
        container: { cli: "podman", runArgs: ["--network=host"] },
      },
      history: { keepPerJob: 10, maxAge: 90 * 86_400_000, pruneInterval: 10_000, pruneBatch: 50 },
      compat: {
        dcs: false,
        dcsMaxRequests: 8,
        dcsHistorySize: 50,
        dapr: true,
        daprNamespace: "apps",
        daprAppUrl: "http://127.0.0.1:3000",
        daprMinEvery: 1,
        alauda: false,
        alaudaRegion: "SHANGHAI",
        juice: false,
        schedulerx: true,
        schedulerxJavaCommand: ["/opt/runner/java-job"],
      },
      log: { level: "debug", format: "text", runs: "failures" },
      metrics: { enabled: true },
      auth: DEFAULTS.auth,
      egress: DEFAULTS.egress,
      callbacks: DEFAULTS.callbacks,
      secrets: DEFAULTS.secrets,
      // Half of this file's scheduler.max_in_flight.
      limits: { ...DEFAULTS.limits, maxInFlight: 32 },
      notify: DEFAULTS.notify,
    });
  });

  test("keys left out keep their defaults", () => {
    const config = parseConfig("[scheduler]\nlease = \"10s\"\n", {});
    expect(config.scheduler.lease).toBe(10_000);
    expect(config.scheduler.pollInterval).toBe(1000);
    expect(config.server).toEqual(DEFAULTS.server);
  });

  test("dotted keys and inline tables are the same keys", () => {
    const config = parseConfig('scheduler.default_retry = { times = 2 }\nserver.port = 1\n', {});
    expect(config.scheduler.defaultRetry.times).toBe(2);
    expect(config.server.port).toBe(1);
  });

  test("an empty auth_token, sync_url or node_id means unset", () => {
    const config = parseConfig('[database]\nauth_token = ""\nsync_url = ""\n[scheduler]\nnode_id = ""\n', {});
    expect(config.database.authToken).toBeUndefined();
    expect(config.database.syncUrl).toBeUndefined();
    expect(config.scheduler.nodeId).toBe(`${hostname()}:8080`);
  });
});

describe("durations and sizes", () => {
  const lease = (text: string) => parseConfig(`[scheduler]\nlease = ${JSON.stringify(text)}\n`, {}).scheduler.lease;
  const maxBody = (value: string | number) =>
    parseConfig(`[server]\nmax_body = ${JSON.stringify(value)}\n`, {}).server.maxBody;

  test.each([
    ["500ms", 500],
    ["1.5s", 1500],
    ["30s", 30_000],
    ["2m", 120_000],
    ["1h30m", 5_400_000],
    ["1m30s", 90_000],
    ["1d", 86_400_000],
    ["1500us", 2],
    ["2000000ns", 2],
    [" 45s ", 45_000],
  ])("duration %p is %p ms", (text, ms) => {
    expect(lease(text)).toBe(ms);
  });

  test("zero is accepted where it means 'none' and rejected where a positive duration is needed", () => {
    const config = parseConfig(
      '[scheduler]\nshutdown_grace = "0"\nmisfire_threshold = "0s"\n[scheduler.default_retry]\ninterval = "0ms"\n',
      {},
    );
    expect(config.scheduler.shutdownGrace).toBe(0);
    expect(config.scheduler.misfireThreshold).toBe(0);
    expect(config.scheduler.defaultRetry.interval).toBe(0);
    const issues = issuesOf('[scheduler]\nlease = "0s"\npoll_interval = "0"\n');
    expect(issues).toEqual([
      { path: "scheduler.poll_interval", message: 'must be a positive duration, got "0"' },
      { path: "scheduler.lease", message: 'must be a positive duration, got "0s"' },
    ]);
  });

  test.each([
    ["5", "needs a unit"],
    ["-5s", "must not be negative"],
    ["soon", "such as"],
    ["5 s", "such as"],
    ["25d", "at most 24d"],
  ])("duration %p is rejected (%s)", (text, hint) => {
    const [issue] = issuesOf(`[scheduler]\nlease = ${JSON.stringify(text)}\n`);
    expect(issue.path).toBe("scheduler.lease");
    expect(issue.message).toContain(hint);
  });

  test("a bare number is not a duration", () => {
    expect(issuesOf("[scheduler]\nlease = 30\n")).toEqual([
      { path: "scheduler.lease", message: 'must be a positive duration such as "30s" or "1h30m", got 30' },
    ]);
  });

  test.each([
    [4096, 4096],
    ["4096", 4096],
    ["100B", 100],
    ["512KiB", 512 * 1024],
    ["512KB", 512_000],
    ["1MiB", 1024 * 1024],
    ["1MB", 1_000_000],
    ["1.5KiB", 1536],
    ["1GiB", 1024 ** 3],
    ["2mib", 2 * 1024 * 1024],
  ])("size %p is %p bytes", (value, bytes) => {
    expect(maxBody(value)).toBe(bytes);
  });

  test.each([["1TiB"], ["-1"], ["1.5"], ["1.5B"], ["ten"], [0], [1.5], ["2GiB"], ["1 KiB B"]])("size %p is rejected", (value) => {
    expect(pathsOf(`[server]\nmax_body = ${JSON.stringify(value)}\n`)).toEqual(["server.max_body"]);
  });

  test("a response limit may be zero", () => {
    expect(parseConfig("[executors.tcp]\nmax_response_bytes = 0\n", {}).executors.tcp.maxResponseBytes).toBe(0);
  });
});

describe("precedence", () => {
  const file = '[server]\nport = 9000\nhost = "0.0.0.0"\n[database]\nurl = "file:from-file.db"\n';

  test("environment overrides the file", () => {
    const config = parseConfig(file, { TOCK_SERVER_PORT: "9100", TOCK_DATABASE_URL: "file:from-env.db" });
    expect(config.server.port).toBe(9100);
    expect(config.server.host).toBe("0.0.0.0");
    expect(config.database.url).toBe("file:from-env.db");
  });

  test("flags override the environment", () => {
    const config = parseConfig(
      file,
      { TOCK_SERVER_PORT: "9100", TOCK_DATABASE_URL: "file:from-env.db" },
      { port: 9200, db: "file:from-flag.db" },
    );
    expect(config.server.port).toBe(9200);
    expect(config.database.url).toBe("file:from-flag.db");
  });

  test("flags override the file without environment", () => {
    expect(parseConfig(file, {}, { port: 0 }).server.port).toBe(0);
  });

  test("every key has its own environment variable, including keys with underscores", () => {
    const config = parseConfig(null, {
      TOCK_SCHEDULER_NODE_ID: "from-env",
      TOCK_SCHEDULER_MAX_IN_FLIGHT: "7",
      TOCK_EXECUTORS_HTTP_USER_AGENT: "agent/1",
      TOCK_EXECUTORS_HTTP_MAX_RESPONSE_BYTES: "2KiB",
      TOCK_EXECUTORS_TCP_MAX_RESPONSE_BYTES: "100",
      TOCK_SCHEDULER_DEFAULT_RETRY_TIMES: "5",
      TOCK_SCHEDULER_DEFAULT_RETRY_MAX_INTERVAL: "2m",
      TOCK_SCHEDULER_DEFAULT_RETRY_JITTER: "0.5",
      TOCK_SCHEDULER_DEFAULT_RETRY_BACKOFF: "fixed",
      TOCK_DATABASE_AUTH_TOKEN: "tok",
      TOCK_LOG_LEVEL: "warn",
    });
    expect(config.scheduler.nodeId).toBe("from-env");
    expect(config.scheduler.maxInFlight).toBe(7);
    expect(config.executors.http).toEqual({ userAgent: "agent/1", maxResponseBytes: 2048 });
    expect(config.executors.tcp.maxResponseBytes).toBe(100);
    expect(config.scheduler.defaultRetry).toEqual({
      times: 5,
      interval: 1000,
      backoff: "fixed",
      maxInterval: 120_000,
      jitter: 0.5,
    });
    expect(config.database.authToken).toBe("tok");
    expect(config.log.level).toBe("warn");
  });

  test("the variable names follow TOCK_<SECTION>_<KEY>", () => {
    expect(envName(["scheduler", "default_retry", "times"])).toBe("TOCK_SCHEDULER_DEFAULT_RETRY_TIMES");
    expect(envName(["server", "port"])).toBe("TOCK_SERVER_PORT");
  });

  test("an empty environment variable clears an optional key set by the file", () => {
    const config = parseConfig('[database]\nauth_token = "from-file"\n', { TOCK_DATABASE_AUTH_TOKEN: "" });
    expect(config.database.authToken).toBeUndefined();
  });

  test("TOCK_CONFIG and variables not named TOCK_… are no keys: parseConfig leaves them alone", () => {
    expect(parseConfig(null, { TOCK_CONFIG: "x.toml", TOCK: "", PATH: "/bin" })).toEqual(DEFAULTS);
  });
});

describe("reporting problems", () => {
  test("a file with several problems reports every one with its key path", () => {
    const issues = issuesOf(`
[server]
port = 70000
max_body = "lots"

[database]
url = "postgres://db"

[scheduler]
lease = "-5s"
batch_size = 0
poll_interval = 1
misfire_all_cap = 2.5

[scheduler.default_retry]
backoff = "linear"
jitter = 1.5
interval = "5m"
max_interval = "1m"

[executors.http]
user_agent = ""

[log]
format = "xml"
`);
    const paths = issues.map((i) => i.path);
    for (
      const path of [
        "server.port",
        "server.max_body",
        "database.url",
        "scheduler.lease",
        "scheduler.batch_size",
        "scheduler.poll_interval",
        "scheduler.misfire_all_cap",
        "scheduler.default_retry.backoff",
        "scheduler.default_retry.jitter",
        "scheduler.default_retry.max_interval",
        "executors.http.user_agent",
        "log.format",
      ]
    ) expect(paths).toContain(path);
    expect(issues).toHaveLength(12);
    expect(issues.find((i) => i.path === "server.port")?.message).toBe(
      "must be an integer from 0 to 65535, got 70000",
    );
    expect(issues.find((i) => i.path === "scheduler.default_retry.backoff")?.message).toBe(
      'must be one of "fixed", "exponential", got "linear"',
    );
  });

  test("the error message lists every issue on its own line", () => {
    try {
      parseConfig('[server]\nport = "x"\n[log]\nlevel = 3\n', {}, {}, "tock.toml");
      throw new Error("expected a ConfigError");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toBe(
        "invalid configuration in tock.toml:\n" +
          '  server.port: must be an integer from 0 to 65535, got "x"\n' +
          '  log.level: must be one of "debug", "info", "warn", "error", got 3',
      );
    }
  });

  test("unknown keys are errors, at every depth, with a suggestion for a near miss", () => {
    const issues = issuesOf(`
telemetry = true
[server]
prot = 80
[scheduler]
leese = "5s"
[scheduler.default_retry]
maxInterval = "1m"
[executors.grpc]
x = 1
`);
    expect(issues).toEqual([
      { path: "telemetry", message: expect.stringContaining("unknown key") },
      { path: "server.prot", message: 'unknown key; did you mean "port"?' },
      { path: "scheduler.leese", message: 'unknown key; did you mean "lease"?' },
      { path: "scheduler.default_retry.maxInterval", message: 'unknown key; did you mean "max_interval"?' },
      { path: "executors.grpc", message: "unknown key; [executors] has http, tcp, process, script, container" },
    ]);
  });

  test("a section that is not a table is reported at its path", () => {
    expect(issuesOf('server = "localhost"\n')).toEqual([
      { path: "server", message: 'must be a table, got "localhost"' },
    ]);
    expect(issuesOf("server = [1]\nlog = 2024-01-01\n[scheduler]\ndefault_retry = []\n")).toEqual([
      { path: "server", message: "must be a table, got an array" },
      { path: "log", message: "must be a table, got a date" },
      { path: "scheduler.default_retry", message: "must be a table, got an array" },
    ]);
  });

  test("an unknown TOCK_* variable is reported like an unknown key, with the nearest one; TOCK_CONFIG, TOCK_SERVER and TOCK_TOKEN are not keys", () => {
    expect(issuesOf(null, { TOCK_SCHEDULER_LEESE: "40s" })).toEqual([{ path: "env TOCK_SCHEDULER_LEESE", message: "unknown variable; did you mean TOCK_SCHEDULER_LEASE?" }]);
    expect(issuesOf(null, { TOCK_NOTHING_LIKE_IT_AT_ALL: "1" })[0].message).toMatch(/^unknown variable: no configuration key has this name/);
    expect(() => parseConfig(null, { TOCK_CONFIG: "x.toml", TOCK_SERVER: "http://127.0.0.1:8080", TOCK_TOKEN: "t", OTHER: "1" })).not.toThrow();
  });

  test("a node_timeout shorter than three heartbeats is reported (a live node would be taken for dead)", () => {
    expect(issuesOf('[scheduler]\nheartbeat = "2s"\nnode_timeout = "5s"\n')).toEqual([
      { path: "scheduler.node_timeout", message: "must be at least three times scheduler.heartbeat (a node would be taken for dead between two of its beats)" },
    ]);
    expect(parseConfig('[scheduler]\nheartbeat = "500ms"\nnode_timeout = "1500ms"\n', {}).scheduler).toMatchObject({ heartbeat: 500, nodeTimeout: 1500 });
  });

  test("a retry ceiling below the first interval is reported", () => {
    expect(issuesOf('[scheduler.default_retry]\ninterval = "2m"\n')).toEqual([
      { path: "scheduler.default_retry.max_interval", message: "must be at least scheduler.default_retry.interval" },
    ]);
  });

  test("sync_url needs an embedded (file:) database url", () => {
    expect(pathsOf('[database]\nurl = "libsql://a.turso.io"\nsync_url = "libsql://b.turso.io"\n')).toEqual([
      "database.sync_url",
    ]);
    expect(pathsOf('[database]\nsync_url = "file:other.db"\n')).toEqual(["database.sync_url"]);
  });

  test("a TOML syntax error is one issue with file, line and column", () => {
    const issues = issuesOf('[server]\nport = 80\nhost = "unterminated\n');
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe("tock.toml:3:21");
    expect(issues[0].message).toStartWith("TOML syntax error: ");
  });

  test("a duplicated key is a syntax error", () => {
    expect(pathsOf("[server]\nport = 80\nport = 81\n")).toEqual(["tock.toml:3:1"]);
  });

  test("a syntax error does not hide a bad environment variable", () => {
    expect(pathsOf("[server\n", { TOCK_SERVER_PORT: "http" })).toEqual(["tock.toml:1:8", "env TOCK_SERVER_PORT"]);
  });

  test("an environment value that is not a number names the variable", () => {
    expect(issuesOf(null, { TOCK_SERVER_PORT: "eighty" })).toEqual([
      { path: "env TOCK_SERVER_PORT", message: 'must be a number, got "eighty"' },
    ]);
    expect(pathsOf(null, { TOCK_SCHEDULER_BATCH_SIZE: "" })).toEqual(["env TOCK_SCHEDULER_BATCH_SIZE"]);
  });

  test("lists and tables come from the environment as JSON; a plain string stays a string", () => {
    const config = parseConfig(null, {
      TOCK_EXECUTORS_PROCESS_PASS_ENV: '["PATH", "LANG"]',
      TOCK_EXECUTORS_PROCESS_SHELL: "/bin/bash",
      TOCK_EXECUTORS_SCRIPT_INTERPRETERS: '{"ruby": "ruby", "node": []}',
    });
    expect(config.executors.process.passEnv).toEqual(["PATH", "LANG"]);
    expect(config.executors.process.shell).toEqual(["/bin/bash"]);
    expect(config.executors.script.interpreters.ruby).toEqual(["ruby"]);
    expect(config.executors.script.interpreters.node).toBeUndefined();
    expect(config.executors.script.interpreters.shell).toEqual(["/bin/sh"]);
    expect(pathsOf(null, { TOCK_EXECUTORS_PROCESS_PASS_ENV: "PATH" })).toEqual(["env TOCK_EXECUTORS_PROCESS_PASS_ENV"]);
    expect(pathsOf(null, { TOCK_EXECUTORS_PROCESS_PASS_ENV: '["NOT A NAME"]' })).toEqual(["env TOCK_EXECUTORS_PROCESS_PASS_ENV"]);
  });

  test("an environment value that fails validation names the variable, not the key", () => {
    expect(issuesOf('[server]\nport = 80\n', { TOCK_SERVER_PORT: "70000", TOCK_SCHEDULER_LEASE: "30" })).toEqual([
      { path: "env TOCK_SERVER_PORT", message: "must be an integer from 0 to 65535, got 70000" },
      { path: "env TOCK_SCHEDULER_LEASE", message: 'needs a unit, such as "30s" or "30ms", got "30"' },
    ]);
  });

  test("a bad flag names the flag", () => {
    expect(pathsOf(null, {}, { port: -1, db: "mysql://x" })).toEqual(["flag --port", "flag --db"]);
  });
});

describe("loadConfig", () => {
  function withDir(run: (dir: string) => void) {
    const dir = mkdtempSync(join(tmpdir(), "tock-config-"));
    try {
      run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("reads the file given, then environment and flags", () => {
    withDir((dir) => {
      const file = join(dir, "custom.toml");
      writeFileSync(file, '[server]\nport = 9000\nhost = "0.0.0.0"\n[log]\nlevel = "debug"\n');
      const config = loadConfig({ file, env: { TOCK_SERVER_PORT: "9100", TOCK_LOG_LEVEL: "warn" }, flags: { port: 9200 } });
      expect(config.server).toEqual({ host: "0.0.0.0", port: 9200, maxBody: 1024 * 1024, ...SERVER_EXTRAS });
      expect(config.log.level).toBe("warn");
    });
  });

  test("a file given explicitly must exist", () => {
    expect(() => loadConfig({ file: "/nonexistent/tock.toml", env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ file: "/nonexistent/tock.toml", env: {} });
    } catch (e) {
      expect((e as ConfigError).issues).toEqual([
        { path: "/nonexistent/tock.toml", message: "file not found: /nonexistent/tock.toml" },
      ]);
    }
  });

  test("TOCK_CONFIG names the file when none is given, and must exist", () => {
    withDir((dir) => {
      const file = join(dir, "env.toml");
      writeFileSync(file, "[server]\nport = 7000\n");
      expect(loadConfig({ env: { TOCK_CONFIG: file } }).server.port).toBe(7000);
      const missing = join(dir, "missing.toml");
      try {
        loadConfig({ env: { TOCK_CONFIG: missing } });
        throw new Error("expected a ConfigError");
      } catch (e) {
        expect((e as ConfigError).issues).toEqual([{ path: "env TOCK_CONFIG", message: `file not found: ${missing}` }]);
      }
    });
  });

  test("an explicit file wins over TOCK_CONFIG", () => {
    withDir((dir) => {
      const file = join(dir, "a.toml");
      writeFileSync(file, "[server]\nport = 7001\n");
      expect(loadConfig({ file, env: { TOCK_CONFIG: join(dir, "missing.toml") } }).server.port).toBe(7001);
    });
  });

  test("tock.toml in the working directory is read when present, else defaults apply", () => {
    withDir((dir) => {
      const cwd = process.cwd();
      try {
        process.chdir(dir);
        expect(loadConfig({ env: {} })).toEqual(DEFAULTS);
        writeFileSync(join(dir, "tock.toml"), "[server]\nport = 7002\n");
        expect(loadConfig({ env: {} }).server.port).toBe(7002);
      } finally {
        process.chdir(cwd);
      }
    });
  });

  test("problems in the file name it in the message", () => {
    withDir((dir) => {
      const file = join(dir, "bad.toml");
      writeFileSync(file, "[server]\nport = -1\n");
      expect(() => loadConfig({ file, env: {} })).toThrow(`invalid configuration in ${file}:\n  server.port:`);
    });
  });
});

describe("tock.example.toml", () => {
  const uncommented = EXAMPLE.replace(/^# ([a-z_]+ = )/gm, "$1");

  test("parses as shipped and gives the defaults", () => {
    expect(parseConfig(EXAMPLE, {})).toEqual(DEFAULTS);
  });

  test("with every key uncommented it still gives the defaults", () => {
    expect(uncommented).not.toBe(EXAMPLE);
    expect(parseConfig(uncommented, {})).toEqual(DEFAULTS);
  });

  test("lists every key of the configuration", () => {
    const inFile = leafPaths(parse(uncommented)).map(snakeToCamel).sort();
    const inConfig = leafPaths(JSON.parse(JSON.stringify(DEFAULTS)))
      .filter((k) => !k.startsWith("limits.rate."))
      .concat([
      "limits.rate", // parsed to { count, perMs }
      "server.socket",
      "server.tls.cert",
      "server.tls.key",
      "server.tls.clientCa",
      "callbacks.signingSecret",
      "callbacks.previousSigningSecret",
      "secrets.key",
      "secrets.keyFile",
      "secrets.previousKey",
      "secrets.previousKeyFile",
      "database.authToken",
      "database.syncUrl",
      "compat.daprAppUrl",
      "compat.alaudaNotifyUrl",
      "compat.schedulerxAlarmUrl",
      "executors.container.cli",
      "executors.process.workingDir",
      "executors.script.tempDir",
    ]);
    expect(inFile).toEqual(inConfig.sort());
  });
});

describe("security sections", () => {
  test("egress rules are CIDR ranges, addresses or host names, per namespace too", () => {
    const c = parseConfig('[egress]\npreset = "public-only"\nallow = ["10.1.0.0/16", "api.example.com", "*.corp.example", "::1"]\n[egress.namespaces.team_a]\ndeny = ["192.168.0.0/16"]\n', {});
    expect(c.egress.preset).toBe("public-only");
    expect(c.egress.allow).toEqual(["10.1.0.0/16", "api.example.com", "*.corp.example", "::1"]);
    // Namespace names are kept as written (not camelized).
    expect(c.egress.namespaces).toEqual({ team_a: { deny: ["192.168.0.0/16"] } });
    expect(issuesOf('[egress]\ndeny = ["10.0.0.0/33"]\n')[0]).toEqual({ path: "egress.deny", message: expect.stringContaining('"10.0.0.0/33" is not a CIDR range') });
    expect(pathsOf('[egress]\npreset = "open"\n')).toEqual(["egress.preset"]);
    expect(issuesOf('[egress.namespaces.a]\nalow = ["x.example"]\n')[0].message).toContain('unknown key "alow"');
  });

  test("signing secrets and encryption keys are checked for their form", () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    const key = Buffer.alloc(32, 9).toString("base64");
    const c = parseConfig(`[callbacks]\nsigning_secret = "${secret}"\n[callbacks.namespaces.t1]\nsigning_secret = "${secret}"\n[secrets]\nkey = "${key}"\n`, {});
    expect(c.callbacks.signingSecret).toBe(secret);
    expect(c.callbacks.namespaces.t1.signingSecret).toBe(secret);
    expect(c.secrets.key).toBe(key);
    expect(pathsOf('[callbacks]\nsigning_secret = "hunter2"\n')).toEqual(["callbacks.signing_secret"]);
    expect(pathsOf(`[callbacks]\nsigning_secret = "whsec_${Buffer.alloc(8).toString("base64")}"\n`)).toEqual(["callbacks.signing_secret"]);
    expect(pathsOf(`[secrets]\nkey = "${Buffer.alloc(16).toString("base64")}"\n`)).toEqual(["secrets.key"]);
    expect(pathsOf(`[secrets]\nkey = "${key}"\nkey_file = "/k"\n`)).toEqual(["secrets.key_file"]);
  });

  test("rates are a count per second, minute or hour, or off; the burst follows the rate", () => {
    expect(parseConfig('[limits]\nrate = "50/s"\n', {}).limits).toMatchObject({ rate: { count: 50, perMs: 1000 }, burst: 100 });
    expect(parseConfig('[limits]\nrate = "600/m"\nburst = 5\n', {}).limits).toMatchObject({ rate: { count: 600, perMs: 60_000 }, burst: 5 });
    expect(parseConfig('[limits]\nrate = "off"\n', {}).limits.rate).toBeNull();
    expect(parseConfig(null, { TOCK_LIMITS_RATE: "" }).limits.rate).toBeNull();
    for (const bad of ["0/s", "fast", "10/d", "-1/s"]) expect(pathsOf(`[limits]\nrate = "${bad}"\n`)).toEqual(["limits.rate"]);
  });

  test("server hosts, CORS origins and TLS files", () => {
    const c = parseConfig('[server]\nhosts = ["tock.example.com", "*.internal", "10.0.0.5"]\ncors_origins = ["HTTPS://Ops.Example.com"]\n[server.tls]\ncert = "c.pem"\nkey = "k.pem"\n', {});
    expect(c.server.hosts).toEqual(["tock.example.com", "*.internal", "10.0.0.5"]);
    expect(c.server.corsOrigins).toEqual(["https://ops.example.com"]);
    expect(c.server.tls).toEqual({ cert: "c.pem", key: "k.pem", clientCa: undefined });
    expect(pathsOf('[server]\ncors_origins = ["https://a.example/path"]\n')).toEqual(["server.cors_origins"]);
    expect(pathsOf('[server]\nhosts = ["exa mple"]\n')).toEqual(["server.hosts"]);
    expect(pathsOf('[server.tls]\ncert = "c.pem"\n')).toEqual(["server.tls.key"]);
    expect(pathsOf('[server.tls]\nclient_ca = "ca.pem"\n')).toEqual(["server.tls.client_ca"]);
    expect(pathsOf('[auth]\nmode = "maybe"\n')).toEqual(["auth.mode"]);
  });
});
