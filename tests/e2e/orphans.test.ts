// No orphans: a process run's group and its leader's identity (boot id and start time) are stored, so that
// when tock dies (kill -9) with a process still running, the recovery of that run on the same machine ends
// the old group first, and never a process that merely reused its pid.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { endStaleGroup, processIdentity } from "../../src/runtime/procs.ts";
import { openStore } from "../../src/store/client.ts";
import { read } from "../../src/store/sql.ts";
import { alive, tempDir, waitUntil } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-orphans-");
const procs: Proc[] = [];
const strays: number[] = [];
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  for (const pid of strays) {
    // Never 0 or 1: -0 would be this process's own group (the test runner), -1 every process.
    if (!(pid > 1)) continue;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  cleanup();
});

const dbUrl = `file:${join(dir, "tock.db")}`;
// A stand-in container CLI: `run` stays in the foreground like a container, every call is logged.
const cli = join(dir, "fake-docker");
const cliLog = join(dir, "cli.log");
writeFileSync(cli, `#!/bin/sh\necho "$*" >> "${cliLog}"\ncase "$1" in run) exec sleep 60 ;; esac\n`, { mode: 0o755 });
const node = async (db = dbUrl) => {
  const p = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: {
      TOCK_DATABASE_URL: db,
      // A stop ends what still runs at once (the recovery attempts here would run for a minute).
      TOCK_SCHEDULER_SHUTDOWN_GRACE: "0s",
      TOCK_SCHEDULER_NODE_ID: "o1",
      TOCK_SCHEDULER_POLL_INTERVAL: "100ms",
      TOCK_EXECUTORS_PROCESS_ENABLED: "true",
      TOCK_EXECUTORS_CONTAINER_CLI: cli,
    },
  });
  procs.push(p);
  return p;
};

test("tock killed with a process run in flight: the next start ends the old process group before its recovery attempt runs", async () => {
  const first = await node();
  expect((await api(first.url, "PUT", "/api/v1/namespaces/o/jobs/sleep", { target: { process: { command: ["sleep", "60"] } }, timeout: "2m" })).status).toBe(201);
  const trig = await api(first.url, "POST", "/api/v1/namespaces/o/jobs/sleep/trigger");
  expect(trig.status).toBe(202);
  const store = await openStore({ url: dbUrl }, { migrate: false });
  try {
    const recorded = async () => (await read(store, { sql: "SELECT pgid, proc FROM runs WHERE id = ?", args: [trig.body.id] }))[0];
    await waitUntil(async () => (await recorded())?.pgid != null, "the run's process recorded");
    const { pgid, proc } = await recorded();
    strays.push(Number(pgid));
    expect(proc).toBe(processIdentity(Number(pgid)));

    first.child.kill("SIGKILL");
    await first.exited;
    expect(alive(Number(pgid))).toBe(true); // its own session: it outlives tock

    const second = await node();
    await waitUntil(() => !alive(Number(pgid)), "the old group ended");
    expect(second.logs.some((l) => l.includes("ended the process group of a run being recovered"))).toBe(true);
    await waitUntil(async () => (await read(store, "SELECT pgid FROM runs WHERE trigger = 'recovery' AND status = 'running'"))[0]?.pgid != null, "the recovery attempt running");
    const runs = await read(store, "SELECT status, trigger, pgid FROM runs ORDER BY id");
    expect(runs.map((r) => [r.status, r.trigger])).toEqual([
      ["lost", "manual"],
      ["running", "recovery"],
    ]);
    strays.push(Number(runs[1].pgid));
    expect(runs[1].pgid).not.toBe(pgid);
    second.child.kill("SIGTERM");
    await second.exited;
  } finally {
    store.close();
  }
}, 60_000);

test("tock killed with a container run in flight: the next start ends its CLI and removes the container by name", async () => {
  const boxUrl = `file:${join(dir, "box.db")}`;
  const first = await node(boxUrl);
  expect((await api(first.url, "PUT", "/api/v1/namespaces/o/jobs/box", { target: { container: { image: "alpine" } }, timeout: "2m" })).status).toBe(201);
  const trig = await api(first.url, "POST", "/api/v1/namespaces/o/jobs/box/trigger");
  const store = await openStore({ url: boxUrl }, { migrate: false });
  try {
    const recorded = async () => (await read(store, { sql: "SELECT pgid, container FROM runs WHERE id = ?", args: [trig.body.id] }))[0];
    await waitUntil(async () => (await recorded())?.container != null, "the run's container recorded");
    const { pgid, container } = await recorded();
    strays.push(Number(pgid));
    expect(String(container)).toMatch(new RegExp(`^tock-run-${trig.body.id}-[0-9a-f]{8}$`));
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await node(boxUrl);
    await waitUntil(() => !alive(Number(pgid)), "the old CLI ended");
    await waitUntil(() => existsSync(cliLog) && readFileSync(cliLog, "utf8").includes(`rm -f ${container}`), "the container removed");
    second.child.kill("SIGTERM");
    await second.exited;
  } finally {
    store.close();
  }
}, 60_000);

test("a recorded group is ended only while its leader is the same process: a pid with another start time is left alone", async () => {
  const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore" });
  const pid = child.pid!;
  strays.push(pid);
  const identity = processIdentity(pid);
  expect(identity).toMatch(/^[0-9a-f-]{36}:\d+$/);
  const [boot, start] = identity!.split(":");
  expect(endStaleGroup(pid, `${boot}:${Number(start) - 1}`)).toBe(false); // another process once had this pid
  expect(endStaleGroup(pid, `not-this-boot:${start}`)).toBe(false);
  expect(alive(pid)).toBe(true);
  expect(endStaleGroup(pid, identity!)).toBe(true);
  await waitUntil(() => !alive(pid), "the group ended");
});
