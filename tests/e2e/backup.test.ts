// `tock backup PATH`: an online, consistent copy of the database file while tock serves it and writes to it.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { startSink, tempDir } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-backup-");
const procs: Proc[] = [];
const sink = startSink();
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const dbUrl = `file:${join(dir, "tock.db")}`;
const backup = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "backup", ...args], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir, TOCK_DATABASE_URL: dbUrl } });

test("a copy taken while tock serves and writes holds every job acknowledged before it, and is a sound database", async () => {
  const tock = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], { cwd: dir, env: { TOCK_DATABASE_URL: dbUrl, TOCK_SCHEDULER_POLL_INTERVAL: "100ms" } });
  procs.push(tock);
  for (let i = 0; i < 50; i++) {
    expect((await api(tock.url, "PUT", `/api/v1/namespaces/b/jobs/j-${i}`, { schedule: "@every 1s", target: { http: { url: `${sink.url}/t` } } })).status).toBe(201);
  }
  // Writes go on during the copy: runs firing every second, and more jobs.
  let writing = true;
  const more = (async () => {
    for (let i = 0; writing; i++) await api(tock.url, "PUT", `/api/v1/namespaces/b/jobs/more-${i}`, { schedule: "@every 1h", target: { http: { url: `${sink.url}/m` } } });
  })();
  const out = join(dir, "copy.db");
  const r = backup(out);
  writing = false;
  await more;
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`wrote ${out}: a consistent copy of ${dbUrl}\n`);

  const copy = createClient({ url: `file:${out}` });
  try {
    expect((await copy.execute("PRAGMA integrity_check")).rows[0][0]).toBe("ok");
    const names = (await copy.execute("SELECT name FROM jobs WHERE name LIKE 'j-%'")).rows.map((x) => String(x.name));
    expect(names).toHaveLength(50);
    // The copy is a tock database as it stood: its migrations are all there.
    expect(Number((await copy.execute('SELECT count(*) FROM "__drizzle_migrations"')).rows[0][0])).toBeGreaterThan(10);
  } finally {
    copy.close();
  }
  // A path that exists is refused, and nothing is written over it.
  const again = backup(out);
  expect(again.status).toBe(2);
  expect(again.stderr).toContain("exists already");
});
