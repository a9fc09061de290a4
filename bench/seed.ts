// Fast, faithful seeding of a fresh database file (tock not running): template jobs are created by the
// domain verb putJob itself (the code path of PUT /api/v1/namespaces/{ns}/jobs/{name}), then cloned in
// one SQL statement with every column copied from a template except id and name. The table then holds
// exactly what the API would have left, except that created_at/updated_at are equal rather than spread
// over the setup time.
import { parseConfig } from "../src/config.ts";
import { FULL_ACCESS } from "../src/domain/access.ts";
import { putJob } from "../src/domain/jobs.ts";
import { SecretBox } from "../src/domain/secrets.ts";
import { silentLogger } from "../src/log.ts";
import { systemClock } from "../src/clock.ts";
import { noScheduler } from "../src/domain/ports.ts";
import { openStore, type Store } from "../src/store/client.ts";
import { JOB_COLUMNS as WRITTEN_COLUMNS } from "../src/store/job-writes.ts";

/** The columns putJob writes (all but id). */
export const JOB_COLUMNS: readonly string[] = WRITTEN_COLUMNS;

/**
 * `env`: TOCK_* settings of the config putJob validates against (it refuses process jobs unless that
 * config enables them); pass the ones tock will run with.
 */
async function withStore<T>(
  dbUrl: string,
  fn: (store: Store, deps: Parameters<typeof putJob>[0]) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const store = await openStore({ url: dbUrl });
  try {
    const config = parseConfig(null, env, { db: dbUrl });
    const secrets = await SecretBox.create([config.secrets.key]);
    return await fn(store, { store, clock: systemClock, log: silentLogger, config, scheduler: noScheduler, access: FULL_ACCESS, secrets });
  } finally {
    store.close();
  }
}

/** Checks that every column putJob wrote is one we copy (catches a column added to jobs later). */
async function checkColumns(store: Store) {
  const rs = await store.client.execute("SELECT name FROM pragma_table_info('jobs')");
  const missing = rs.rows.map((r) => String(r.name)).filter((c) => c !== "id" && !JOB_COLUMNS.includes(c));
  if (missing.length) throw new Error(`seed: jobs has columns this bench does not copy: ${missing.join(", ")}`);
}

/**
 * `n` one-shot jobs in namespace `ns`, named job-0 … job-(n-1), all due at `dueTime` (an RFC 3339 instant
 * or a duration), HTTP POST to `url`.
 */
export async function seedOneShots(dbUrl: string, ns: string, n: number, dueTime: string, url: string): Promise<void> {
  await seedOneShotTargets(dbUrl, ns, n, dueTime, { http: { url } });
}

/**
 * `n` one-shot jobs in namespace `ns`, named job-0 … job-(n-1), all due at `dueTime`, with `target` as
 * given to the API (e.g. `{ process: { command: ["/bin/true"] } }`). `env`: the TOCK_* settings putJob's
 * config gets (TOCK_EXECUTORS_PROCESS_ENABLED=true for a process target).
 */
export async function seedOneShotTargets(
  dbUrl: string,
  ns: string,
  n: number,
  dueTime: string,
  target: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<void> {
  await withStore(dbUrl, async (store, deps) => {
    await checkColumns(store);
    await putJob(deps, ns, "job-0", { dueTime, target });
    const copied = JOB_COLUMNS.map((c) => (c === "name" ? "'job-' || c.i" : `t.${c}`)).join(", ");
    await store.client.batch(
      [
        {
          sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")})
                WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
                SELECT ${copied} FROM c, (SELECT * FROM jobs WHERE namespace = ? AND name = 'job-0') AS t`,
          args: [n - 1, ns],
        },
      ],
      "write",
    );
    await store.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    const rs = await store.client.execute({ sql: "SELECT count(*) AS n FROM jobs WHERE namespace = ? AND next_fire_at IS NOT NULL", args: [ns] });
    if (Number(rs.rows[0].n) !== n) throw new Error(`seeded ${rs.rows[0].n} jobs, wanted ${n}`);
  }, env);
}

/**
 * `n` daily cron jobs in namespace `ns` named job-0 … job-(n-1). Job i runs once a day at second
 * i % 86400 of the day (UTC), as the 6-field pattern "s m h * * *", so next_fire_at is spread evenly over
 * the next 24 h (n / 86,400 jobs per second: ~58 within a 5 s lookahead for a million jobs).
 *
 * One template comes from putJob; the clone computes each job's schedule string and next_fire_at in SQL
 * (the first second-of-day slot strictly after `now`, as cronNext does for these patterns) and copies
 * every other column. Then 200 jobs spread over the range are re-created by putJob in a scratch namespace
 * and compared column by column with their clones (only id, namespace, name, timestamps may differ, and
 * next_fire_at only if a slot passed meanwhile); any other difference fails the seed.
 */
export async function seedDailyCrons(dbUrl: string, ns: string, n: number, url: string): Promise<void> {
  await withStore(dbUrl, async (store, deps) => {
    await checkColumns(store);
    const pattern = (i: number) => {
      const sec = i % 86_400;
      return `${sec % 60} ${Math.floor(sec / 60) % 60} ${Math.floor(sec / 3600)} * * *`;
    };
    const body = (i: number) => ({
      schedule: pattern(i),
      target: { http: { url, headers: { "x-bench": "scale" } } },
      payload: { job: "nightly-report" },
    });
    await putJob(deps, "seed-tmpl", "t", body(0));
    const now = Date.now();
    const day0 = now - (now % 86_400_000);
    const computed: Record<string, string> = {
      namespace: "?",
      name: "'job-' || c.i",
      schedule: "((c.i % 86400) % 60) || ' ' || (((c.i % 86400) / 60) % 60) || ' ' || ((c.i % 86400) / 3600) || ' * * *'",
      created_at: "?",
      updated_at: "?",
      next_fire_at: "(CASE WHEN ? + (c.i % 86400) * 1000 > ? THEN ? + (c.i % 86400) * 1000 ELSE ? + (c.i % 86400) * 1000 + 86400000 END)",
    };
    const select: string[] = [];
    const args: (string | number)[] = [n - 1];
    for (const c of JOB_COLUMNS) {
      select.push(computed[c] ?? `t.${c}`);
      if (c === "namespace") args.push(ns);
      if (c === "created_at" || c === "updated_at") args.push(now);
      if (c === "next_fire_at") args.push(day0, now, day0, day0);
    }
    await store.client.batch(
      [
        {
          sql: `INSERT INTO jobs (${JOB_COLUMNS.join(", ")})
                WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
                SELECT ${select.join(", ")} FROM c, (SELECT * FROM jobs WHERE namespace = 'seed-tmpl' AND name = 't') AS t`,
          args,
        },
        { sql: "DELETE FROM jobs WHERE namespace = 'seed-tmpl'", args: [] },
      ],
      "write",
    );

    // Faithfulness check against putJob itself.
    for (let k = 0; k < 200; k++) {
      const i = Math.floor((k * (n - 1)) / 199);
      await putJob(deps, "seed-verify", `v${i}`, body(i));
      const [a, b] = await Promise.all([
        store.client.execute({ sql: "SELECT * FROM jobs WHERE namespace = ? AND name = ?", args: [ns, `job-${i}`] }),
        store.client.execute({ sql: "SELECT * FROM jobs WHERE namespace = 'seed-verify' AND name = ?", args: [`v${i}`] }),
      ]);
      const clone = a.rows[0];
      const real = b.rows[0];
      for (const c of JOB_COLUMNS) {
        if (["namespace", "name", "created_at", "updated_at"].includes(c)) continue;
        const same = String(clone[c]) === String(real[c]);
        const slotPassed = c === "next_fire_at" && Number(clone[c]) <= Number(real.created_at);
        if (!same && !slotPassed) throw new Error(`seed: job-${i}.${c} is ${clone[c]} but putJob writes ${real[c]}`);
      }
    }
    await store.client.batch([{ sql: "DELETE FROM jobs WHERE namespace = 'seed-verify'", args: [] }], "write");
    await store.client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    const rs = await store.client.execute({ sql: "SELECT count(*) AS n FROM jobs WHERE namespace = ?", args: [ns] });
    if (Number(rs.rows[0].n) !== n) throw new Error(`seeded ${rs.rows[0].n} jobs, wanted ${n}`);
  });
}
