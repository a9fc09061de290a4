// Several tock processes on one database file: every due slot fires exactly once between them, and the
// runs of a node killed mid-flight are recovered by another once its lease lapses.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { read } from "../../src/store/sql.ts";
import { openStore } from "../../src/store/client.ts";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-cluster-");
const procs: Proc[] = [];
let hang = true;
const sink = startSink(async (req) => {
  if (req.path === "/hang" && hang) await new Promise((r) => setTimeout(r, 30_000));
  return new Response("ok");
});
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const dbUrl = `file:${join(dir, "tock.db")}`;
const node = (id: string) =>
  startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: {
      TOCK_DATABASE_URL: dbUrl,
      TOCK_SCHEDULER_NODE_ID: id,
      TOCK_SCHEDULER_POLL_INTERVAL: "100ms",
      TOCK_SCHEDULER_LOOKAHEAD: "500ms",
      TOCK_SCHEDULER_BATCH_SIZE: "50",
      TOCK_SCHEDULER_LEASE: "2s",
      // Each node holds at most its share of max_held (and twice what it can run), so the burst is shared.
      TOCK_SCHEDULER_MAX_IN_FLIGHT: "100",
      TOCK_SCHEDULER_MAX_HELD: "300",
    },
  });

test("three nodes on one database fire every slot exactly once, and recover a dead node's runs", async () => {
  const nodes = await Promise.all(["n1", "n2", "n3"].map(node));
  procs.push(...nodes);

  // 600 one-shots due at one instant, and 3 @every jobs, created through different nodes.
  const due = new Date(Date.now() + 2_500).toISOString();
  const N = 600;
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      api(nodes[i % 3].url, "PUT", `/api/v1/namespaces/c/jobs/once-${i}`, { dueTime: due, target: { http: { url: `${sink.url}/once/${i}` } } }).then((r) =>
        expect(r.status).toBe(201),
      ),
    ),
  );
  for (let i = 0; i < 3; i++) {
    const r = await api(nodes[i].url, "PUT", `/api/v1/namespaces/c/jobs/every-${i}`, { schedule: "@every 1s", target: { http: { url: `${sink.url}/every/${i}` } } });
    expect(r.status).toBe(201);
  }
  await waitUntil(() => sink.requests.filter((r) => r.path.startsWith("/once/")).length >= N, "all one-shots");
  await new Promise((r) => setTimeout(r, 3_000)); // let the @every jobs run a few slots, and any duplicate arrive

  const once = sink.requests.filter((r) => r.path.startsWith("/once/"));
  expect(once.length).toBe(N);
  expect(new Set(once.map((r) => r.path)).size).toBe(N);
  for (const r of once) expect(r.at).toBeGreaterThanOrEqual(Date.parse(due));
  const every = sink.requests.filter((r) => r.path.startsWith("/every/"));
  expect(new Set(every.map((r) => r.headers["webhook-id"])).size).toBe(every.length);

  const store = await openStore({ url: dbUrl }, { migrate: false });
  try {
    const perSlot = await read(store, "SELECT job_id, scheduled_at, count(*) AS n FROM runs WHERE attempt = 1 GROUP BY job_id, scheduled_at HAVING n > 1");
    expect(perSlot).toEqual([]);
    const byNode = await read(store, "SELECT node_id, count(*) AS n FROM runs WHERE job_name LIKE 'once-%' GROUP BY node_id");
    expect(byNode.length).toBeGreaterThan(1); // the work was shared
    const statuses = await read(store, "SELECT DISTINCT status FROM runs WHERE job_name LIKE 'once-%'");
    expect(statuses.map((r) => r.status)).toEqual(["succeeded"]);

    // A node dies with a run in flight: another node marks it lost and delivers a recovery attempt.
    await api(nodes[0].url, "PUT", "/api/v1/namespaces/c/jobs/hang", { target: { http: { url: `${sink.url}/hang` } }, timeout: "1m" });
    const trig = await api(nodes[0].url, "POST", "/api/v1/namespaces/c/jobs/hang/trigger");
    expect(trig.status).toBe(202);
    await waitUntil(async () => (await read(store, { sql: "SELECT status FROM runs WHERE id = ?", args: [trig.body.id] }))[0]?.status === "running", "hang running");
    const [{ node_id: owner }] = await read(store, { sql: "SELECT node_id FROM runs WHERE id = ?", args: [trig.body.id] });
    const victim = nodes.find((_, i) => `n${i + 1}` === owner)!;
    victim.child.kill("SIGKILL");
    await victim.exited;
    hang = false;
    await waitUntil(
      async () => (await read(store, { sql: "SELECT status FROM runs WHERE job_name = 'hang' AND trigger = 'recovery'", args: [] }))[0]?.status === "succeeded",
      "recovery by another node",
    );
    const hangRuns = await read(store, "SELECT status, trigger, attempt, node_id FROM runs WHERE job_name = 'hang' ORDER BY id");
    expect(hangRuns.map((r) => [r.status, r.trigger, r.attempt])).toEqual([
      ["lost", "manual", 1],
      ["succeeded", "recovery", 2],
    ]);
    expect(hangRuns[1].node_id).not.toBe(owner);
    const hangIds = sink.requests.filter((r) => r.path === "/hang").map((r) => r.headers["webhook-id"]);
    expect(new Set(hangIds)).toEqual(new Set([String(trig.body.id)]));
  } finally {
    store.close();
  }
  for (const p of nodes) expect(p.logs.join("\n")).not.toMatch(/database is locked|SQLITE_BUSY/);
}, 90_000);
