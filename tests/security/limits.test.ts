// Limits and fairness: jobs per namespace ([limits] max_jobs, per namespace too), kept in a table the
// database's triggers keep exact whatever writes the jobs; runs of a namespace in flight at once.
import { afterAll, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { read } from "../../src/store/sql.ts";
import { envsOf, startSink, type TestEnv, waitUntil } from "../helpers.ts";

const env = envsOf();
const defaults = parseConfig(null, {});
const job = { schedule: "@every 1h", target: { http: { url: "http://127.0.0.1:9/" } } };
const counts = async (e: TestEnv) => Object.fromEntries((await read(e.deps.store, "SELECT namespace, jobs FROM namespace_counts ORDER BY namespace")).map((r) => [r.namespace, r.jobs]));

describe("[limits] max_jobs", () => {
  test("a namespace at its limit refuses new jobs (403, on every API) but replaces existing ones; a namespace may have its own limit", async () => {
    const e = await env({ config: { limits: { ...defaults.limits, maxJobs: 3, namespaces: { big: { maxJobs: 5 } } } } });
    for (const n of ["a", "b", "c"]) expect((await e.call("PUT", `/api/v1/namespaces/n/jobs/${n}`, job)).status).toBe(201);
    const over = await e.call("PUT", "/api/v1/namespaces/n/jobs/d", job);
    expect(over.status).toBe(403);
    expect(over.body.error.message).toContain("[limits] max_jobs");
    expect((await e.call("PUT", "/jobs/n/d", { expr: "@every 1h", callback: { http: { url: "http://127.0.0.1:9/" } } })).status).toBe(403);
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/a", { ...job, memo: "replaced" })).status).toBe(200);
    expect((await e.call("DELETE", "/api/v1/namespaces/n/jobs/b")).status).toBe(204);
    expect((await e.call("PUT", "/api/v1/namespaces/n/jobs/d", job)).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await e.call("PUT", `/api/v1/namespaces/big/jobs/${i}`, job)).status).toBe(201);
    expect((await e.call("PUT", "/api/v1/namespaces/big/jobs/5", job)).status).toBe(403);
    expect(await counts(e)).toEqual({ big: 5, n: 3 });
  });

  test("the count stays exact through batched creates, replaces and deletes", async () => {
    const e = await env();
    await Promise.all(Array.from({ length: 60 }, (_, i) => e.call("PUT", `/api/v1/namespaces/${i % 3}/jobs/j${i}`, job)));
    await Promise.all(Array.from({ length: 30 }, (_, i) => e.call("PUT", `/api/v1/namespaces/${i % 3}/jobs/j${i}`, { ...job, memo: "again" })));
    await Promise.all(Array.from({ length: 10 }, (_, i) => e.call("DELETE", `/api/v1/namespaces/0/jobs/j${i * 3}`)));
    const actual = Object.fromEntries((await read(e.deps.store, "SELECT namespace, count(*) AS n FROM jobs GROUP BY namespace")).map((r) => [r.namespace, r.n]));
    expect(await counts(e)).toEqual({ ...actual, 0: 10 });
    expect(actual).toEqual({ 0: 10, 1: 20, 2: 20 });
  });
});

describe("[limits] max_in_flight", () => {
  /** A node that runs 8 at once, any number per host. */
  const SCHEDULER = { pollInterval: 100, maxInFlight: 8, maxInFlightPerHost: 100 };

  /** A TCP peer that reads and never answers, and a job whose runs hang on it (`sockets`: one per run). */
  async function hangingPeer() {
    const sockets = new Set<import("node:net").Socket>();
    const silent = (await import("node:net")).createServer((s) => {
      sockets.add(s);
      s.on("error", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const stuck = { target: { tcp: { addr: `127.0.0.1:${port}`, body: "aGk=", ack: "b2s=" } }, timeout: "1h", overlap: "allow" };
    const close = () => {
      for (const s of sockets) s.destroy();
      silent.close();
    };
    return { sockets, stuck, close };
  }

  test("one namespace's TCP runs that never answer cannot take every slot: another namespace's jobs still run", async () => {
    const { sockets, stuck, close } = await hangingPeer();
    const sink = startSink();
    try {
      const e = await env({ start: true, config: { scheduler: SCHEDULER, limits: { ...defaults.limits, maxInFlight: 4 } } });
      for (let i = 0; i < 12; i++) await e.call("PUT", `/api/v1/namespaces/attacker/jobs/t${i}`, stuck);
      for (let i = 0; i < 12; i++) await e.call("POST", `/api/v1/namespaces/attacker/jobs/t${i}/trigger`);
      await waitUntil(() => sockets.size === 4 && e.deps.scheduler.stats.parked === 8, `4 attacker runs in flight (${sockets.size}), 8 waiting`);
      await e.call("PUT", "/api/v1/namespaces/victim/jobs/v", { target: { http: { url: `${sink.url}/v` } } });
      await e.call("POST", "/api/v1/namespaces/victim/jobs/v/trigger");
      await sink.waitFor(1);
      expect(sockets.size).toBe(4); // the attacker's queue did not move
      // A namespace may have its own limit.
      const e2 = await env({ start: true, config: { scheduler: SCHEDULER, limits: { ...defaults.limits, maxInFlight: 4, namespaces: { trusted: { maxInFlight: 6 } } } } });
      for (let i = 0; i < 8; i++) await e2.call("PUT", `/api/v1/namespaces/trusted/jobs/t${i}`, stuck);
      for (let i = 0; i < 8; i++) await e2.call("POST", `/api/v1/namespaces/trusted/jobs/t${i}/trigger`);
      await waitUntil(() => sockets.size === 10 && e2.deps.scheduler.stats.parked === 2, `6 more in flight (${sockets.size - 4})`);
    } finally {
      close();
      sink.stop();
    }
  });

  test("more hanging runs than the node lets wait (4 x its max_in_flight) still hold back only their own namespace", async () => {
    const { sockets, stuck, close } = await hangingPeer();
    const sink = startSink();
    try {
      // 4 run at once of the attacker's namespace; 32 more may wait for it (4 x max_in_flight), then the
      // rest wait in memory, unmarked, behind them in due order, where the victim's run comes due too.
      const e = await env({ start: true, config: { scheduler: SCHEDULER, limits: { ...defaults.limits, maxInFlight: 4 } } });
      for (let i = 0; i < 10; i++) await e.call("PUT", `/api/v1/namespaces/attacker/jobs/t${i}`, stuck);
      for (let i = 0; i < 50; i++) expect((await e.call("POST", `/api/v1/namespaces/attacker/jobs/t${i % 10}/trigger`)).status).toBe(202);
      const stats = () => e.deps.scheduler.stats;
      // (Marking goes by batches: the cap is checked before each, so a few more than 32 may be waiting.)
      await waitUntil(() => sockets.size === 4 && stats().parked >= 32 && stats().held === 50 - 4, `4 attacker runs in flight (${sockets.size}), 32 waiting (${stats().parked})`);
      const parked = stats().parked;
      expect(parked).toBeLessThan(46);
      await e.call("PUT", "/api/v1/namespaces/victim/jobs/v", { target: { http: { url: `${sink.url}/v` } } });
      await e.call("POST", "/api/v1/namespaces/victim/jobs/v/trigger");
      await sink.waitFor(1);
      expect(sockets.size).toBe(4);
      // The attacker's other runs are still held, not marked running.
      const running = await read(e.deps.store, "SELECT count(*) AS n FROM runs WHERE namespace = 'attacker' AND status = 'running'");
      expect(Number(running[0].n)).toBe(4 + parked);
    } finally {
      close();
      sink.stop();
    }
  });
});
