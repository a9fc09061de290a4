// The peers' stores as private child processes of the bench: redis-server and PostgreSQL 15 from the
// Debian packages, each on a free port of 127.0.0.1 with its data in a temp dir. Both are killed with their
// process group and their dirs removed at exit, on failure and on Ctrl-C (../lib.ts spawnChild, tempDir).
import { spawnSync } from "node:child_process";
import { chownSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { type Child, childCpuMsOf, cpuMsOf, spawnChild, tempDir } from "../lib.ts";

export const PG_BIN = process.env.PG_BIN ?? "/usr/lib/postgresql/15/bin";

/** The settings each store runs with (written into the JSON next to the figures). */
export const REDIS_SETTINGS = { appendonly: "yes", appendfsync: "everysec", save: "", "maxmemory-policy": "noeviction" };
export const PG_SETTINGS = { synchronous_commit: "off", fsync: "on", max_connections: "100", shared_buffers: "128MB" };

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Pids of a process and all its descendants (from /proc). */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

/**
 * CPU ms (user + system) a process and its descendants used so far: each live one's own time plus what
 * its reaped children used (so PostgreSQL backends that exited still count).
 */
export function treeCpuMs(root: number): number {
  let ms = 0;
  for (const pid of tree(root)) {
    try {
      ms += cpuMsOf(pid) + childCpuMsOf(pid);
    } catch {
      // exited meanwhile: its time went to its parent's reaped-children figure
    }
  }
  return ms;
}

export interface Service {
  child: Child;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<Service & { version: string }> {
  const { dir, cleanup } = tempDir("tock-peers-redis-");
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--daemonize", "no", "--protected-mode", "yes"];
  for (const [k, v] of Object.entries(REDIS_SETTINGS)) args.push(`--${k}`, v);
  const child = spawnChild(["redis-server", ...args], { name: "redis", echo: (l) => /# .*(error|Error|ERR)/.test(l) });
  await child.waitLine((l) => l.includes("Ready to accept connections"), 15_000, "ready line");
  const version = /v=(\S+)/.exec(spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?";
  return {
    child,
    port,
    version,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await child.stop(5_000);
      cleanup();
    },
  };
}

/** Runs a PostgreSQL binary as the postgres user when we are root (PostgreSQL refuses to run as root). */
function asPg(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
}

export async function startPostgres(): Promise<Service & { version: string }> {
  const { dir, cleanup } = tempDir("tock-peers-pg-");
  if (process.getuid?.() === 0) {
    const pw = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const gw = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    chownSync(dir, Number(pw.stdout), Number(gw.stdout));
  }
  const [cmd, ...args0] = asPg([`${PG_BIN}/initdb`, "-D", `${dir}/data`, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"]);
  const init = spawnSync(cmd, args0, { encoding: "utf8" });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const port = await freePort();
  const args = ["-D", `${dir}/data`, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1"];
  for (const [k, v] of Object.entries(PG_SETTINGS)) args.push("-c", `${k}=${v}`);
  const child = spawnChild(asPg([`${PG_BIN}/postgres`, ...args]), { name: "postgres", echo: (l) => /FATAL|PANIC/.test(l) });
  await child.waitLine((l) => l.includes("ready to accept connections"), 30_000, "ready line");
  const version = /(\d+\.\d+)/.exec(spawnSync(`${PG_BIN}/postgres`, ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?";
  return {
    child,
    port,
    version,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await child.stop(10_000);
      cleanup();
    },
  };
}
