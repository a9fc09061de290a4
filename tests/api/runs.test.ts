import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { encodeCursor } from "../../src/domain/ids.ts";
import { type TestEnv, testEnv, waitUntil } from "../helpers.ts";

// Lines are stamped around this instant; the scheduler is not started, so runs stay as the tests set them.
const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const S0 = T0 / 1000;
const STREAMS = ["stdout", "stderr", "tock"];

let env: TestEnv;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let jobId: number;
let slot = 0;

beforeAll(async () => {
  env = await testEnv();
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: env.app.fetch });
  base = `http://127.0.0.1:${server.port}`;
  const put = await env.call("PUT", "/api/v1/namespaces/logs/jobs/j", { target: { http: { url: "http://127.0.0.1:9/hook" } } });
  expect(put.status).toBe(201);
  jobId = put.body.id;
});
/** Follow streams still open: closed after each test, so a failed test cannot leave listeners to the next. */
const open = new Set<AbortController>();
afterEach(() => {
  for (const ctl of open) ctl.abort();
  open.clear();
});
afterAll(async () => {
  server.stop(true);
  await env.close();
});

const sql = (text: string, args: (string | number)[] = []) => env.deps.store.client.execute({ sql: text, args });

async function insertRun(status: string): Promise<number> {
  slot++;
  const rs = await sql(
    "INSERT INTO runs (job_id, namespace, job_name, scheduled_at, due_at, trigger, attempt, status) VALUES (?, 'logs', 'j', ?, ?, 'manual', 1, ?) RETURNING id",
    [jobId, T0 + slot, T0 + slot, status],
  );
  return Number(rs.rows[0].id);
}

/** Lines `from`..`to`: line i at T0 + i s, streams cycling stdout, stderr, tock. */
async function addLines(runId: number, from: number, to: number): Promise<void> {
  await sql(
    `WITH RECURSIVE n(i) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO run_logs (run_id, seq, at, stream, line) SELECT ?, i, ? + i * 1000, CASE i % 3 WHEN 1 THEN 'stdout' WHEN 2 THEN 'stderr' ELSE 'tock' END, 'line ' || i FROM n`,
    [from, to, runId, T0],
  );
}

const streamOf = (i: number) => STREAMS[(i - 1) % 3];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const seqs = (items: { seq: number }[]) => items.map((l) => l.seq);
const logs = async (runId: number, query = "") => env.call("GET", `/api/v1/runs/${runId}/logs${query}`);

const finish = (runId: number, status: string) => sql("UPDATE runs SET status = ?, ended_at = ? WHERE id = ?", [status, Date.now(), runId]);

interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

/** Opens a follow stream on the real server and reads it event by event (comments skipped). */
async function follow(path: string, headers: Record<string, string> = {}) {
  const ctl = new AbortController();
  open.add(ctl);
  const res = await fetch(base + path, { headers, signal: ctl.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let ended = false;
  const read = (timeoutMs: number) => {
    let timer: ReturnType<typeof setTimeout>;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no SSE data within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
  };
  /** The next event, or null once the server closed the stream. */
  async function next(timeoutMs = 5000): Promise<SseEvent | null> {
    for (;;) {
      const i = buf.indexOf("\n\n");
      if (i >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev: SseEvent = { data: "" };
        let fields = 0;
        for (const line of frame.split("\n")) {
          if (line.startsWith(":")) continue;
          const [k, ...rest] = line.split(": ");
          const v = rest.join(": ");
          if (k === "event") ev.event = v;
          else if (k === "id") ev.id = v;
          else if (k === "data") ev.data = ev.data ? `${ev.data}\n${v}` : v;
          fields++;
        }
        if (fields > 0) return ev;
        continue;
      }
      if (ended) return null;
      const r = await read(timeoutMs);
      if (r.done) ended = true;
      else buf += decoder.decode(r.value, { stream: true });
    }
  }
  /** The next `n` line events, parsed. */
  async function lines(n: number, timeoutMs = 5000) {
    const out: { seq: number; at: string; stream: string; line: string }[] = [];
    while (out.length < n) {
      const ev = await next(timeoutMs);
      if (!ev) throw new Error(`stream closed after ${out.length} of ${n} lines`);
      expect(ev.event).toBe("line");
      const line = JSON.parse(ev.data);
      expect(ev.id).toBe(String(line.seq));
      out.push(line);
    }
    return out;
  }
  return { res, next, lines, close: () => ctl.abort() };
}

describe("GET /api/v1/runs/{id}", () => {
  test("answers a run by id (moved here from the job routes, unchanged)", async () => {
    const t = await env.call("POST", "/api/v1/namespaces/logs/jobs/j/trigger");
    expect(t.status).toBe(202);
    const one = await env.call("GET", `/api/v1/runs/${t.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: t.body.id, namespace: "logs", jobName: "j", status: "queued", trigger: "manual" });
    expect((await env.call("GET", "/api/v1/runs/abc")).body.error.field).toBe("id");
    expect((await env.call("GET", "/api/v1/runs/999999")).status).toBe(404);
  });
});

describe("GET /api/v1/runs/{id}/logs", () => {
  let run: number;
  beforeAll(async () => {
    run = await insertRun("running");
    await addLines(run, 1, 10);
  });

  test("lists every line in seq order with the run's status", async () => {
    const res = await logs(run);
    expect(res.status).toBe(200);
    expect(res.body.runId).toBe(run);
    expect(res.body.status).toBe("running");
    expect(res.body.nextCursor).toBeNull();
    expect(seqs(res.body.items)).toEqual(range(1, 10));
    expect(res.body.items[0]).toEqual({ seq: 1, at: "2026-11-21T10:00:01.000Z", stream: "stdout", line: "line 1" });
    expect(res.body.items[1].stream).toBe("stderr");
    expect(res.body.items[2].stream).toBe("tock");
  });

  test("since (inclusive) and until (exclusive) as RFC 3339, with fractions and offsets", async () => {
    const cases: [string, number[]][] = [
      ["?since=2026-11-21T10:00:02Z&until=2026-11-21T10:00:05Z", [2, 3, 4]],
      ["?since=2026-11-21T10:00:02.000Z&until=2026-11-21T10:00:05.000Z", [2, 3, 4]],
      ["?since=2026-11-21T10:00:01.5Z&until=2026-11-21T10:00:04.0001Z", [2, 3, 4]],
      ["?since=2026-11-21T11:00:02%2B01:00&until=2026-11-21T05:00:05-05:00", [2, 3, 4]],
      ["?since=2026-11-21T10:00:08Z", [8, 9, 10]],
      ["?until=2026-11-21T10:00:03Z", [1, 2]],
      ["?since=2026-11-21T10:00:05Z&until=2026-11-21T10:00:05Z", []],
    ];
    for (const [q, want] of cases) {
      const res = await logs(run, q);
      expect(res.status, q).toBe(200);
      expect(seqs(res.body.items), q).toEqual(want);
    }
  });

  test("since and until as Unix seconds, integer or fractional", async () => {
    const cases: [string, number[]][] = [
      [`?since=${S0 + 2}&until=${S0 + 5}`, [2, 3, 4]],
      [`?since=${S0 + 1}.999&until=${S0 + 4}.001`, [2, 3, 4]],
      [`?since=${S0 + 2}.0001`, range(3, 10)],
      [`?until=${S0 + 1}.0000001`, [1]],
    ];
    for (const [q, want] of cases) {
      const res = await logs(run, q);
      expect(res.status, q).toBe(200);
      expect(seqs(res.body.items), q).toEqual(want);
    }
  });

  test("stream filter: one stream or a comma list, combined with a range", async () => {
    const stderr = await logs(run, "?stream=stderr");
    expect(seqs(stderr.body.items)).toEqual([2, 5, 8]);
    expect(stderr.body.items.every((l: { stream: string }) => l.stream === "stderr")).toBe(true);
    const two = await logs(run, "?stream=stdout,tock");
    expect(seqs(two.body.items)).toEqual([1, 3, 4, 6, 7, 9, 10]);
    const ranged = await logs(run, `?stream=tock&since=${S0 + 4}`);
    expect(seqs(ranged.body.items)).toEqual([6, 9]);
  });

  test("limit and cursor page through every line once, in order, filters kept", async () => {
    const big = await insertRun("succeeded");
    await addLines(big, 1, 2345);
    const walk = async (query: string) => {
      const got: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await logs(big, `${query}${cursor ? `&cursor=${cursor}` : ""}`);
        expect(res.status).toBe(200);
        expect(res.body.status).toBe("succeeded");
        got.push(...seqs(res.body.items));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      return { got, pages };
    };
    const all = await walk("?limit=1000");
    expect(all.got).toEqual(range(1, 2345));
    expect(all.pages).toBe(3);
    const small = await walk("?limit=7&stream=tock&since=2026-11-21T10:01:00Z");
    expect(small.got).toEqual(range(60, 2345).filter((i) => streamOf(i) === "tock"));
    const exact = await walk("?limit=5&until=" + (S0 + 11));
    expect(exact.got).toEqual(range(1, 10));
    expect(exact.pages).toBe(2);
    expect(seqs((await logs(big)).body.items)).toHaveLength(1000);
    expect(seqs((await logs(big, "?limit=10000")).body.items)).toHaveLength(2345);
  });

  test("every bad parameter is a 400 naming it", async () => {
    const cases: [string, string][] = [
      ["?since=yesterday", "since"],
      ["?since=2026-13-01T00:00:00Z", "since"],
      ["?since=2026-02-29T00:00:00Z", "since"],
      ["?since=2026-11-21T24:00:00Z", "since"],
      ["?since=2026-11-21T10:00:00", "since"],
      ["?since=2026-11-21", "since"],
      ["?until=-5", "until"],
      ["?until=1e9", "until"],
      ["?until=2026-11-21T10:00:00%2B25:00", "until"],
      ["?stream=stdin", "stream"],
      ["?stream=stdout,", "stream"],
      ["?stream=STDOUT", "stream"],
      ["?limit=0", "limit"],
      ["?limit=10001", "limit"],
      ["?limit=x", "limit"],
      ["?cursor=zzz", "cursor"],
      [`?cursor=${encodeCursor("abc")}`, "cursor"],
      [`?cursor=${encodeCursor(-1)}`, "cursor"],
      ["?follow=maybe", "follow"],
      ["?follow=1&limit=10", "limit"],
      ["?follow=1&stream=nope", "stream"],
      ["?follow=1&since=soon", "since"],
    ];
    for (const [q, field] of cases) {
      const res = await logs(run, q);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBe("invalid");
      expect(res.body.error.field, q).toBe(field);
    }
    const badId = await env.call("GET", "/api/v1/runs/abc/logs");
    expect(badId.status).toBe(400);
    expect(badId.body.error.field).toBe("id");
    const badFollowId = await env.call("GET", "/api/v1/runs/-1/logs?follow=1");
    expect(badFollowId.body.error.field).toBe("id");
    const badLastId = await env.call("GET", `/api/v1/runs/${run}/logs?follow=1`, undefined, { "last-event-id": "x" });
    expect(badLastId.status).toBe(400);
    expect(badLastId.body.error.field).toBe("Last-Event-ID");
  });

  test("an unknown run is a 404, as JSON and when following", async () => {
    const a = await env.call("GET", "/api/v1/runs/999999/logs");
    expect(a.status).toBe(404);
    expect(a.body.error.code).toBe("not_found");
    const res = await fetch(`${base}/api/v1/runs/999999/logs?follow=1`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect((await res.json()).error.code).toBe("not_found");
  });
});

describe("GET /api/v1/runs/{id}/logs?follow=1 (server-sent events)", () => {
  test("sends stored lines, then new ones at once on run:log, then end when the run finishes", async () => {
    const run = await insertRun("running");
    await addLines(run, 1, 3);
    const finishedBefore = env.deps.scheduler.events.count("run:finished");
    const s = await follow(`/api/v1/runs/${run}/logs?follow=1`);
    expect(s.res.status).toBe(200);
    expect(s.res.headers.get("content-type")).toContain("text/event-stream");
    const first = await s.lines(3);
    expect(first[0]).toEqual({ seq: 1, at: "2026-11-21T10:00:01.000Z", stream: "stdout", line: "line 1" });
    expect(seqs(first)).toEqual([1, 2, 3]);
    await waitUntil(() => env.deps.scheduler.events.has("run:log"), "the follower to subscribe", 2000);
    // Woken by the event, not the 1 s poll: three rounds, each well under the poll interval.
    for (let seq = 4; seq <= 9; seq += 2) {
      const sent = performance.now();
      await addLines(run, seq, seq + 1);
      env.deps.scheduler.events.emit("run:log", { runId: run, seq: seq + 1 });
      expect(seqs(await s.lines(2))).toEqual([seq, seq + 1]);
      expect(performance.now() - sent).toBeLessThan(300);
    }
    // The last lines commit with the final status: they still come before `end`.
    await env.deps.store.client.batch(
      [
        { sql: "INSERT INTO run_logs (run_id, seq, at, stream, line) VALUES (?, 10, ?, 'tock', 'exit 0')", args: [run, T0 + 10_000] },
        { sql: "UPDATE runs SET status = 'succeeded' WHERE id = ?", args: [run] },
      ],
      "write",
    );
    env.deps.scheduler.events.emit("run:finished", {
      runId: run, jobId, namespace: "logs", jobName: "j", scheduledAt: T0, attempt: 1, trigger: "manual", status: "succeeded",
    });
    expect(await s.lines(1)).toEqual([{ seq: 10, at: "2026-11-21T10:00:10.000Z", stream: "tock", line: "exit 0" }]);
    const end = await s.next(1000);
    expect(end).toEqual({ event: "end", data: JSON.stringify({ status: "succeeded" }) });
    expect(await s.next(1000)).toBeNull();
    await waitUntil(() => !env.deps.scheduler.events.has("run:log") && env.deps.scheduler.events.count("run:finished") === finishedBefore, "listeners removed", 2000);
  }, 10_000);

  test("without any event, the poll finds new lines and the finish (run on another node)", async () => {
    const run = await insertRun("running");
    const s = await follow(`/api/v1/runs/${run}/logs?follow=true`);
    await addLines(run, 1, 2);
    expect(seqs(await s.lines(2, 3000))).toEqual([1, 2]);
    await addLines(run, 3, 3);
    await finish(run, "failed");
    expect(seqs(await s.lines(1, 3000))).toEqual([3]);
    expect(await s.next(3000)).toEqual({ event: "end", data: JSON.stringify({ status: "failed" }) });
    expect(await s.next(1000)).toBeNull();
  }, 10_000);

  test("a finished run: every line (in reads of at most 1000) and end at once", async () => {
    const run = await insertRun("timed_out");
    await addLines(run, 1, 2500);
    const s = await follow(`/api/v1/runs/${run}/logs?follow=1`);
    expect(seqs(await s.lines(2500))).toEqual(range(1, 2500));
    expect(await s.next()).toEqual({ event: "end", data: JSON.stringify({ status: "timed_out" }) });
    expect(await s.next()).toBeNull();
  }, 10_000);

  test("Last-Event-ID resumes after that seq; stream and since filters apply", async () => {
    const run = await insertRun("killed");
    await addLines(run, 1, 12);
    const resumed = await follow(`/api/v1/runs/${run}/logs?follow=1`, { "last-event-id": "9" });
    expect(seqs(await resumed.lines(3))).toEqual([10, 11, 12]);
    expect((await resumed.next())?.event).toBe("end");
    expect(await resumed.next()).toBeNull();

    const filtered = await follow(`/api/v1/runs/${run}/logs?follow=1&stream=stderr,tock&since=2026-11-21T10:00:04Z`, { "last-event-id": "5" });
    const got = await filtered.lines(5);
    expect(seqs(got)).toEqual([6, 8, 9, 11, 12]);
    expect((await filtered.next())?.data).toBe(JSON.stringify({ status: "killed" }));
    expect(await filtered.next()).toBeNull();
  }, 10_000);

  test("a run deleted meanwhile closes the stream without end (a reconnect gets the 404)", async () => {
    await env.call("PUT", "/api/v1/namespaces/logs/jobs/gone", { target: { http: { url: "http://127.0.0.1:9/hook" } } });
    const queued = (await env.call("POST", "/api/v1/namespaces/logs/jobs/gone/trigger")).body.id as number;
    const s = await follow(`/api/v1/runs/${queued}/logs?follow=1`);
    await waitUntil(() => env.deps.scheduler.events.has("run:log"), "the follower to subscribe", 2000);
    expect((await env.call("DELETE", "/api/v1/namespaces/logs/jobs/gone")).status).toBe(204); // drops its queued runs
    expect(await s.next(3000)).toBeNull();
    expect((await fetch(`${base}/api/v1/runs/${queued}/logs?follow=1`)).status).toBe(404);
  }, 10_000);

  test("a client that disconnects removes the follower's listeners", async () => {
    const run = await insertRun("running");
    await addLines(run, 1, 2);
    const events = env.deps.scheduler.events;
    // Others may listen for run ends too (the Juice facade's callbacks): the follower's own must go.
    const finishedBefore = events.count("run:finished");
    const s = await follow(`/api/v1/runs/${run}/logs?follow=1`);
    expect(seqs(await s.lines(2))).toEqual([1, 2]);
    await waitUntil(() => events.has("run:log") && events.count("run:finished") === finishedBefore + 1, "the follower to subscribe", 2000);
    s.close();
    await waitUntil(() => !events.has("run:log") && events.count("run:finished") === finishedBefore, "listeners removed after the disconnect", 3000);
  }, 10_000);
});

describe("DELETE /api/v1/runs/{id}", () => {
  const count = async (table: "runs" | "run_logs", col: "id" | "run_id", id: number) =>
    Number((await sql(`SELECT count(*) AS n FROM ${table} WHERE ${col} = ?`, [id])).rows[0].n);

  test("deletes a finished run and its logs (204), then 404", async () => {
    const run = await insertRun("succeeded");
    const other = await insertRun("failed");
    await addLines(run, 1, 5);
    await addLines(other, 1, 3);
    const res = await env.call("DELETE", `/api/v1/runs/${run}`);
    expect(res.status).toBe(204);
    expect(await count("runs", "id", run)).toBe(0);
    expect(await count("run_logs", "run_id", run)).toBe(0);
    expect(await count("run_logs", "run_id", other)).toBe(3);
    expect((await env.call("GET", `/api/v1/runs/${run}`)).status).toBe(404);
    expect((await logs(run)).status).toBe(404);
    expect((await env.call("DELETE", `/api/v1/runs/${run}`)).status).toBe(404);
  });

  test("a queued or running run is a 409 saying to kill it first, and nothing is deleted", async () => {
    const queued = (await env.call("POST", "/api/v1/namespaces/logs/jobs/j/trigger")).body.id as number;
    const running = await insertRun("running");
    for (const id of [queued, running]) {
      await addLines(id, 1, 4);
      const res = await env.call("DELETE", `/api/v1/runs/${id}`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("conflict");
      expect(res.body.error.message).toContain("kill it first");
      expect(await count("runs", "id", id)).toBe(1);
      expect(await count("run_logs", "run_id", id)).toBe(4);
    }
  });

  test("unknown and malformed ids", async () => {
    expect((await env.call("DELETE", "/api/v1/runs/999999")).status).toBe(404);
    const bad = await env.call("DELETE", "/api/v1/runs/x1");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("id");
  });
});

test("HEAD on a followed run's logs answers the stream's headers and starts no follower", async () => {
  const e = await testEnv();
  try {
    await e.call("PUT", "/api/v1/namespaces/h/jobs/j", { target: { http: { url: "http://127.0.0.1:9/" } } });
    const run = (await e.call("POST", "/api/v1/namespaces/h/jobs/j/trigger")).body;
    const head = await e.app.request(`/api/v1/runs/${run.id}/logs?follow=1`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toStartWith("text/event-stream");
    expect(head.body).toBeNull();
    expect(e.deps.scheduler.events.count("run:log")).toBe(0);
    expect((await e.app.request("/api/v1/runs/999999/logs?follow=1", { method: "HEAD" })).status).toBe(404);
  } finally {
    await e.close();
  }
});
