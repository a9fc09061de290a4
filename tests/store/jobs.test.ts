// The jobs table through its typed row: every field a verb writes comes back as written, whichever write
// made it (a create, the batched upsert, a conditional replace), so a column list out of order cannot
// silently shift values from one column into another.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore, type Store } from "../../src/store/client.ts";
import { insertJob, JOB_COLUMNS, replaceJobAt, savedRow, upsertJob } from "../../src/store/job-writes.ts";
import { type JobFields, jobById, jobByName } from "../../src/store/jobs.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-store-jobs-");
let store: Store;
beforeAll(async () => {
  store = await openStore({ url: `file:${join(dir, "tock.db")}` });
});
afterAll(() => {
  store.close();
  cleanup();
});

/** A job whose every field holds a value no other field holds, so a value in the wrong column shows. */
function distinct(name: string, n: number): JobFields {
  return {
    namespace: "store",
    name,
    schedule: `*/${n} * * * *`,
    scheduleKind: "cron",
    timezone: "Europe/Rome",
    dueTime: `${n}m`,
    ttl: `${n + 1}h`,
    dueAt: 1_000 + n,
    anchorAt: 2_000 + n,
    startAt: 3_000 + n,
    endAt: 4_000 + n,
    repeats: 5 + n,
    firedCount: 6 + n,
    enabled: n % 2 === 0,
    targetKind: "http",
    target: { url: `http://127.0.0.1:${9000 + n}/hook`, method: "PUT" },
    timeoutMs: 7_000 + n,
    retry: { times: 8 + n, interval: "9s" },
    overlap: "queue",
    maxConcurrency: 10 + n,
    broadcast: n % 2 === 1,
    misfire: "all",
    payload: { n, nested: [1, "two", null] },
    memo: `memo ${n}`,
    labels: { team: `t${n}` },
    compat: { api: "test", n },
    onEnd: ["test.delivery"],
    secrets: `sealed-${n}`,
    createdAt: 11_000 + n,
    updatedAt: 12_000 + n,
    nextFireAt: 13_000 + n,
    workflowId: 14_000 + n,
    notify: [{ on: ["failure"], http: { url: `http://127.0.0.1:${9100 + n}/n` } }],
  };
}

describe("the jobs table", () => {
  test("every column of the table is written by the job writes, each once", async () => {
    const rs = await store.client.execute("SELECT name FROM pragma_table_info('jobs') WHERE name != 'id' ORDER BY name");
    expect([...JOB_COLUMNS].sort()).toEqual(rs.rows.map((r) => String(r.name)));
  });

  test("a created job reads back field for field", async () => {
    const job = distinct("created", 1);
    const saved = await insertJob(store, job);
    expect(saved).not.toBeNull();
    expect(await jobByName(store, "store", "created")).toEqual({ ...job, id: saved!.id, version: 1 });
    expect(await jobById(store, saved!.id)).toEqual(savedRow(job, saved!));
    expect(await insertJob(store, job)).toBeNull(); // the name is taken
  });

  test("jobs upserted together read back field for field; a replace keeps id and creation time", async () => {
    const [a, b] = await Promise.all([upsertJob(store, distinct("up-a", 2)), upsertJob(store, distinct("up-b", 3))]);
    expect(await jobByName(store, "store", "up-a")).toEqual(savedRow(distinct("up-a", 2), a));
    expect(await jobByName(store, "store", "up-b")).toEqual(savedRow(distinct("up-b", 3), b));
    const again = await upsertJob(store, { ...distinct("up-a", 4), createdAt: 99 });
    expect(again.id).toBe(a.id);
    expect(again.version).toBe(2);
    expect(await jobByName(store, "store", "up-a")).toEqual({ ...distinct("up-a", 4), id: a.id, version: 2, createdAt: distinct("up-a", 2).createdAt });
  });

  test("a replace at a version reads back field for field; at another version it changes nothing", async () => {
    const first = await upsertJob(store, distinct("cas", 5));
    expect(await replaceJobAt(store, distinct("cas", 6), 7)).toEqual({ version: 1 });
    const r = await replaceJobAt(store, distinct("cas", 6), 1);
    expect(r).toEqual({ saved: { id: first.id, version: 2, createdAt: distinct("cas", 5).createdAt } });
    expect(await jobByName(store, "store", "cas")).toEqual({ ...distinct("cas", 6), id: first.id, version: 2, createdAt: distinct("cas", 5).createdAt });
    expect(await replaceJobAt(store, distinct("none", 7), 1)).toEqual({ version: null });
  });

  test("null and absent values read back as null", async () => {
    const bare: JobFields = {
      ...distinct("bare", 8),
      schedule: null,
      scheduleKind: "manual",
      dueTime: null,
      ttl: null,
      dueAt: null,
      anchorAt: null,
      startAt: null,
      endAt: null,
      repeats: null,
      timeoutMs: null,
      retry: null,
      maxConcurrency: null,
      payload: null,
      memo: null,
      labels: null,
      compat: null,
      onEnd: null,
      secrets: null,
      nextFireAt: null,
    };
    const saved = await upsertJob(store, bare);
    expect(await jobById(store, saved.id)).toEqual(savedRow(bare, saved));
  });
});
