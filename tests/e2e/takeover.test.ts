// Takeover in seconds: a node whose heartbeat is older than node_timeout is dead, and the others take its
// runs at once, long before its leases lapse: those it held unstarted go back to the queue, those in flight
// end lost with a recovery attempt (same webhook-id). A node that was only frozen finds its work gone when
// it comes back, records nothing over the others, and says so.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../src/store/client.ts";
import { read } from "../../src/store/sql.ts";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { api, type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-takeover-");
const procs: Proc[] = [];
let releaseHang: () => void = () => {};
const hung = new Promise<void>((r) => (releaseHang = r));
let hangArrivals = 0;
const sink = startSink(async (req) => {
  // The first call of /hang is held until the test lets it go; its recovery is answered at once.
  if (req.path === "/hang" && ++hangArrivals === 1) await hung;
  return new Response("ok");
});
afterAll(() => {
  for (const p of procs) {
    p.child.kill("SIGCONT");
    p.child.kill("SIGKILL");
  }
  releaseHang();
  sink.stop();
  cleanup();
});

const node = async (db: string, id: string, lookahead = "10s") => {
  const p = await startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], {
    cwd: dir,
    env: {
      TOCK_DATABASE_URL: `file:${join(dir, db)}`,
      TOCK_SCHEDULER_NODE_ID: id,
      TOCK_SCHEDULER_POLL_INTERVAL: "100ms",
      TOCK_SCHEDULER_LOOKAHEAD: lookahead,
      // The lease stays at its 30 s default: taking over in seconds is the heartbeat's doing.
      TOCK_SCHEDULER_HEARTBEAT: "200ms",
      TOCK_SCHEDULER_NODE_TIMEOUT: "1s",
    },
  });
  procs.push(p);
  return p;
};

test("a node killed while holding runs claimed ahead: another node fires them all, once, within seconds", async () => {
  const n1 = await node("kill.db", "n1");
  const N = 40;
  const due = Date.now() + 6_000;
  for (let i = 0; i < N; i++) {
    const r = await api(n1.url, "PUT", `/api/v1/namespaces/t/jobs/once-${i}`, { dueTime: new Date(due).toISOString(), target: { http: { url: `${sink.url}/once/${i}` } } });
    expect(r.status).toBe(201);
  }
  const store = await openStore({ url: `file:${join(dir, "kill.db")}` }, { migrate: false });
  try {
    // n1 claims them all ahead (lookahead 10 s), then n2 joins and n1 dies before they are due.
    await waitUntil(async () => Number((await read(store, "SELECT count(*) AS n FROM runs WHERE status = 'queued' AND node_id = 'n1'"))[0].n) === N, "n1 holds every run");
    const n2 = await node("kill.db", "n2");
    n1.child.kill("SIGKILL");
    await n1.exited;

    await waitUntil(() => sink.requests.filter((r) => r.path.startsWith("/once/")).length >= N, "every run fired", 20_000);
    const once = sink.requests.filter((r) => r.path.startsWith("/once/"));
    expect(new Set(once.map((r) => r.headers["webhook-id"])).size).toBe(N);
    for (const r of once) expect(r.at).toBeGreaterThanOrEqual(due); // never early
    await waitUntil(async () => (await read(store, "SELECT DISTINCT status FROM runs")).map((r) => r.status).join() === "succeeded", "every run succeeded");
    expect((await read(store, "SELECT DISTINCT node_id FROM runs")).map((r) => r.node_id)).toEqual(["n2"]);
    // The dead node's row went with its runs.
    expect((await read(store, "SELECT id FROM nodes ORDER BY id")).map((r) => r.id)).toEqual(["n2"]);
    const took = n2.logs.map((l) => JSON.parse(l)).find((l) => l.msg === "took over the runs of nodes with no heartbeat within node_timeout");
    expect(took).toMatchObject({ level: "warn", nodes: ["n1"], lostInFlight: 0 });
    n2.child.kill("SIGTERM");
    await n2.exited;
  } finally {
    store.close();
  }
}, 60_000);

test("a frozen node's run in flight is recovered elsewhere; when it comes back it records nothing over it, says so and joins again", async () => {
  const n1 = await node("freeze.db", "n1", "1s");
  const store = await openStore({ url: `file:${join(dir, "freeze.db")}` }, { migrate: false });
  try {
    expect((await api(n1.url, "PUT", "/api/v1/namespaces/t/jobs/hang", { target: { http: { url: `${sink.url}/hang` } }, timeout: "1m" })).status).toBe(201);
    const trig = await api(n1.url, "POST", "/api/v1/namespaces/t/jobs/hang/trigger");
    expect(trig.status).toBe(202);
    await waitUntil(() => hangArrivals === 1, "n1 calls /hang");
    const n2 = await node("freeze.db", "n2", "1s");

    n1.child.kill("SIGSTOP");
    // n2 takes the run over: lost on n1, its recovery attempt fired by n2 with the same webhook-id.
    await waitUntil(async () => (await read(store, "SELECT status FROM runs WHERE trigger = 'recovery'"))[0]?.status === "succeeded", "the recovery succeeded on n2", 20_000);

    n1.child.kill("SIGCONT");
    releaseHang(); // n1's own call now answers: its end must not be recorded
    await waitUntil(() => n1.logs.some((l) => l.includes("this node was taken for dead")), "n1 finds out");
    await waitUntil(async () => (await read(store, "SELECT id FROM nodes WHERE id = 'n1'")).length === 1, "n1 joins again");
    // Give n1's late end every chance to be (wrongly) written: it reports it, fenced out.
    await waitUntil(() => n1.logs.some((l) => l.includes("result not recorded")), "n1's end refused by the fence");

    const runs = await read(store, "SELECT status, trigger, attempt, node_id FROM runs ORDER BY id");
    expect(runs.map((r) => [r.status, r.trigger, r.attempt, r.node_id])).toEqual([
      ["lost", "manual", 1, "n1"],
      ["succeeded", "recovery", 2, "n2"],
    ]);
    const ids = sink.requests.filter((r) => r.path === "/hang").map((r) => r.headers["webhook-id"]);
    expect(ids).toEqual([String(trig.body.id), String(trig.body.id)]);
    const dead = n1.logs.map((l) => JSON.parse(l)).find((l) => String(l.msg).startsWith("this node was taken for dead"));
    expect(dead).toMatchObject({ level: "warn", node: "n1" });
    expect(dead.silentMs).toBeGreaterThan(1000);
  } finally {
    store.close();
  }
}, 60_000);
