// The embedded migrator against real libSQL files: fresh and repeated runs, racing clients and
// processes, agreement with drizzle-orm's stock migrator, and the embedded copy matching drizzle/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate as drizzleMigrate } from "drizzle-orm/libsql/migrator";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { defaultDrizzleDir, defaultOutFile, readMigrations, renderModule } from "../../scripts/embed-migrations.ts";
import { migrate } from "../../src/store/migrate.ts";
import { type EmbeddedMigration, migrations } from "../../src/store/migrations.gen.ts";

let dir: string;
let n = 0;
const clients: Client[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tock-migrate-"));
});
afterAll(() => {
  for (const c of clients) c.close();
  rmSync(dir, { recursive: true, force: true });
});

function freshPath(): string {
  return join(dir, `db${++n}.sqlite`);
}
function open(path: string): Client {
  const c = createClient({ url: `file:${path}`, timeout: 5000 });
  clients.push(c);
  return c;
}
async function userTables(c: Client): Promise<string[]> {
  const rs = await c.execute(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__drizzle_migrations' ORDER BY name",
  );
  return rs.rows.map((r) => String(r[0]));
}
async function bookkeeping(c: Client): Promise<{ hash: string; created_at: number }[]> {
  const rs = await c.execute("SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at, hash");
  return rs.rows.map((r) => ({ hash: String(r[0]), created_at: Number(r[1]) }));
}
const expectedRows = () =>
  migrations.map((m) => ({ hash: m.hash, created_at: m.when })).sort((a, b) => a.created_at - b.created_at);
const allTags = () => migrations.map((m) => m.tag);

describe("migrate", () => {
  test("applies every migration to a fresh file and records drizzle's bookkeeping", async () => {
    const c = open(freshPath());
    const res = await migrate(c);
    expect(res.applied).toEqual(allTags());
    expect(await userTables(c)).toEqual(["api_keys", "deliveries", "jobs", "namespace_counts", "nodes", "notifications", "notify_state", "run_logs", "runs", "workflow_instances", "workflow_steps", "workflows"]);
    expect(await bookkeeping(c)).toEqual(expectedRows());
    // drizzle's table definition, column for column
    const cols = await c.execute("SELECT name, type, pk FROM pragma_table_info('__drizzle_migrations') ORDER BY cid");
    expect(cols.rows.map((r) => [r[0], r[1], Number(r[2])])).toEqual([
      ["id", "SERIAL", 1],
      ["hash", "TEXT", 0],
      ["created_at", "numeric", 0],
    ]);
  });

  test("a second run applies nothing", async () => {
    const path = freshPath();
    const c = open(path);
    await migrate(c);
    expect((await migrate(c)).applied).toEqual([]);
    expect((await migrate(open(path))).applied).toEqual([]);
    expect(await bookkeeping(c)).toEqual(expectedRows());
  });

  test("two clients migrating one file at once: both succeed, one row per migration", async () => {
    const path = freshPath();
    const a = open(path);
    const b = open(path);
    await a.execute("PRAGMA journal_mode=WAL");
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
    expect([...ra.applied, ...rb.applied].sort()).toEqual(allTags().sort());
    expect(await bookkeeping(a)).toEqual(expectedRows());
    expect(await userTables(b)).toEqual(["api_keys", "deliveries", "jobs", "namespace_counts", "nodes", "notifications", "notify_state", "run_logs", "runs", "workflow_instances", "workflow_steps", "workflows"]);
  });

  test("the re-check under the write lock catches a migration that landed after our read", async () => {
    const path = freshPath();
    const rival = open(path);
    const real = open(path);
    let raced = false;
    // Let the rival migrate between our read of created_at and our write batch.
    const racing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === "batch" && !raced) {
          return async (...args: Parameters<Client["batch"]>) => {
            raced = true;
            expect((await migrate(rival)).applied).toEqual(allTags());
            return target.batch(...args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    expect((await migrate(racing)).applied).toEqual([]);
    expect(raced).toBe(true);
    expect(await bookkeeping(real)).toEqual(expectedRows());
  });

  for (const journal of ["wal", "delete"] as const) {
    test(`four processes racing on one file (${journal} journal): one applies, the others see it`, async () => {
      const path = freshPath();
      const setup = open(path);
      await setup.execute(`PRAGMA journal_mode=${journal}`);
      // drizzle's bookkeeping table exists already (as after any earlier run), so the workers' reads
      // need no lock; this test holds the write lock until every worker has read "nothing applied"
      // and is queued on BEGIN IMMEDIATE, then lets them all go: three of them must notice.
      await setup.execute(
        `CREATE TABLE "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
      );
      const lock = await setup.transaction("write");
      const worker = join(dir, `worker-${journal}.ts`);
      const clientUrl = import.meta.resolve("@libsql/client");
      const migrateUrl = new URL("../../src/store/migrate.ts", import.meta.url).href;
      writeFileSync(
        worker,
        [
          `import { createClient } from ${JSON.stringify(clientUrl)};`,
          `import { migrate } from ${JSON.stringify(migrateUrl)};`,
          `const c = createClient({ url: "file:" + process.argv[2], timeout: 10000 });`,
          `console.log("ready");`,
          `const res = await migrate(c);`,
          `c.close();`,
          `console.log(JSON.stringify(res.applied));`,
        ].join("\n"),
      );
      const runtimeArgs = "Deno" in globalThis ? ["run", "-A"] : [];
      let ready = 0;
      let allReady!: () => void;
      const allReadyP = new Promise<void>((r) => (allReady = r));
      const run = () =>
        new Promise<string[]>((resolve, reject) => {
          const p = spawn(process.execPath, [...runtimeArgs, worker, path], {
            stdio: ["ignore", "pipe", "pipe"],
            timeout: 15_000,
          });
          let out = "";
          let err = "";
          let counted = false;
          p.stdout.on("data", (d) => {
            out += d;
            if (!counted && out.startsWith("ready\n")) {
              counted = true;
              if (++ready === 4) allReady();
            }
          });
          p.stderr.on("data", (d) => (err += d));
          p.on("error", reject);
          p.on("close", (code) => {
            if (code !== 0) return reject(new Error(`worker exited ${code}: ${err}`));
            resolve(JSON.parse(out.trim().split("\n").pop()!));
          });
        });
      const all = Promise.all([run(), run(), run(), run()]);
      try {
        await Promise.race([allReadyP, all]); // `all` only settles early if a worker fails
        await new Promise((r) => setTimeout(r, 500)); // each has read created_at and is waiting on the lock
      } finally {
        lock.close();
      }
      const results = await all;
      expect(results.flat().sort()).toEqual(allTags().sort());
      expect(results.filter((r) => r.length > 0).length).toBe(1);
      expect(await bookkeeping(setup)).toEqual(expectedRows());
    }, 20_000);
  }

  test("later migrations are applied on top, earlier ones are not repeated", async () => {
    const c = open(freshPath());
    const last = migrations[migrations.length - 1]!;
    const extra: EmbeddedMigration = {
      tag: "9999_extra",
      when: last.when + 1,
      hash: "h-extra",
      statements: ["CREATE TABLE `extra` (`x` integer);", "\nCREATE INDEX `extra_x` ON `extra` (`x`);", "\n"],
    };
    expect((await migrate(c)).applied).toEqual(allTags());
    expect((await migrate(c, [...migrations, extra])).applied).toEqual(["9999_extra"]);
    expect(await userTables(c)).toContain("extra");
    expect((await migrate(c, [...migrations, extra])).applied).toEqual([]);
  });

  test("upgrading to the outbox: Juice tasks with a callbackUrl made before it ask for their callbacks", async () => {
    const c = open(freshPath());
    const before = migrations.filter((m) => m.tag < "0008");
    await migrate(c, before);
    await c.execute(`INSERT INTO jobs (namespace, name, schedule_kind, target_kind, target, created_at, updated_at, compat) VALUES
      ('t', 'juice-1', 'manual', 'process', '{}', 0, 0, '{"api":"juice","callbackUrl":"http://h/cb"}'),
      ('t', 'juice-2', 'manual', 'process', '{}', 0, 0, '{"api":"juice"}'),
      ('t', 'plain', 'manual', 'http', '{}', 0, 0, NULL)`);
    expect((await migrate(c)).applied).toEqual(allTags().filter((t) => t >= "0008"));
    const rows = (await c.execute("SELECT name, on_end FROM jobs ORDER BY name")).rows.map((r) => [r.name, r.on_end]);
    expect(rows).toEqual([
      ["juice-1", '["juice.callback"]'],
      ["juice-2", null],
      ["plain", null],
    ]);
  });

  test("a failing migration leaves nothing behind and names itself", async () => {
    const c = open(freshPath());
    const bad: EmbeddedMigration = {
      tag: "9999_bad",
      when: migrations[migrations.length - 1]!.when + 1,
      hash: "h-bad",
      statements: ["CREATE TABLE `fine` (`x` integer);", "\nCREATE TABLE broken (;"],
    };
    await expect(migrate(c, [...migrations, bad])).rejects.toThrow(/9999_bad/);
    expect(await userTables(c)).toEqual([]);
    expect(await bookkeeping(c)).toEqual([]);
    expect((await migrate(c)).applied).toEqual(allTags()); // and the good ones still go in afterwards
  });
});

describe("agreement with drizzle-orm's stock migrator", () => {
  test("same hashes, timestamps and statements as readMigrationFiles", () => {
    const stock = readMigrationFiles({ migrationsFolder: defaultDrizzleDir });
    expect(migrations.map((m) => ({ sql: m.statements, folderMillis: m.when, hash: m.hash }))).toEqual(
      stock.map((s) => ({ sql: s.sql, folderMillis: s.folderMillis, hash: s.hash })),
    );
  });

  test("a database migrated by drizzle is up to date for us, and vice versa", async () => {
    const byDrizzle = open(freshPath());
    await drizzleMigrate(drizzle(byDrizzle), { migrationsFolder: defaultDrizzleDir });
    expect((await migrate(byDrizzle)).applied).toEqual([]);
    expect(await bookkeeping(byDrizzle)).toEqual(expectedRows());

    const byUs = open(freshPath());
    await migrate(byUs);
    await drizzleMigrate(drizzle(byUs), { migrationsFolder: defaultDrizzleDir }); // would fail on CREATE TABLE if it re-ran
    expect(await bookkeeping(byUs)).toEqual(expectedRows());
  });
});

describe("embedded migrations", () => {
  test("src/store/migrations.gen.ts matches drizzle/ on disk (run `npm run db:generate` if this fails)", () => {
    const onDisk = readMigrations(defaultDrizzleDir);
    expect(migrations).toEqual(onDisk);
    expect(readFileSync(defaultOutFile, "utf8")).toBe(renderModule(onDisk));
  });

  test("the generator is deterministic", () => {
    expect(renderModule(readMigrations())).toBe(renderModule(readMigrations()));
    expect(fileURLToPath(new URL("../../src/store/migrations.gen.ts", import.meta.url))).toBe(defaultOutFile);
  });
});
