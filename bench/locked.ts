// Locked: another process holds tock's database file locked (BEGIN IMMEDIATE, 12 s) while clients use it.
//
// tock runs as a child process (default config) with one `@every 1s` HTTP job firing at a sink. Once it
// has fired a few times, a separate process takes the write lock and holds it for LOCKED_MS (12 s). All the
// while, from this process: GET /healthz one after another (the time of each answer), a PUT of a new job
// every 100 ms (status and time of each), and GET /readyz every 250 ms. Then the lock goes, and we time how
// long until /readyz is 200 and a PUT answers 201 again.
//
// Target: /healthz within 50 ms at all times (max), no 500 ever, every PUT during the lock answered 503 with
// Retry-After, or 201 once the lock went (PUTs sent in its last busy_timeout), /readyz 503 during the lock
// (once writes have failed for busy_timeout), ready again within 2 s of the release, and the job's slots
// fired once each. Requests give up after 20 s (status 0 in the figures).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { log, main, pct, round, ROOT, sleep, sortedNumbers, startSink, startTock, tempDir, tockOverrides } from "./lib.ts";

const LOCKED_MS = Number(process.env.LOCKED_MS ?? 12_000);

/** Another process holds the database's write lock until `release()`. */
async function holdLock(dbUrl: string): Promise<{ release(): void; done: Promise<void> }> {
  const holder = spawn(
    process.execPath,
    [
      "-e",
      `const { createClient } = require("@libsql/client");
       const c = createClient({ url: ${JSON.stringify(dbUrl)}, timeout: 30000 });
       const tx = await c.transaction("write");
       await tx.execute("CREATE TABLE IF NOT EXISTS lock_holder (n INTEGER)");
       await tx.execute("INSERT INTO lock_holder VALUES (1)");
       console.log("locked");
       process.stdin.on("data", async () => { await tx.commit(); c.close(); process.exit(0); });`,
    ],
    { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const done = new Promise<void>((r) => holder.on("exit", () => r()));
  await new Promise<void>((r) => holder.stdout!.once("data", () => r()));
  return { release: () => holder.stdin!.end("go\n"), done };
}

/** Each request gives up after 20 s (status 0): a tock whose event loop waits on SQLite answers nothing. */
const LIMIT = () => AbortSignal.timeout(20_000);

const timed = async (f: () => Promise<Response>) => {
  const t = performance.now();
  try {
    const res = await f();
    await res.text();
    return { status: res.status, ms: performance.now() - t, retryAfter: res.headers.get("retry-after") };
  } catch {
    return { status: 0, ms: performance.now() - t, retryAfter: null };
  }
};

main("locked", async () => {
  const sink = await startSink();
  const { dir, cleanup } = tempDir();
  const dbUrl = `file:${join(dir, "tock.db")}`;
  try {
    const tock = await startTock(dbUrl);
    const put = (name: string) =>
      fetch(`${tock.url}/api/v1/namespaces/locked/jobs/${name}`, {
        method: "PUT",
        signal: LIMIT(),
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ schedule: "@every 1h", target: { http: { url: `${sink.url}/never` } } }),
      });
    const every = await fetch(`${tock.url}/api/v1/namespaces/locked/jobs/tick`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ schedule: "@every 1s", target: { http: { url: `${sink.url}/tick` } } }),
    });
    if (every.status !== 201) throw new Error(`PUT tick: ${every.status}`);
    while ((await sink.count()) < 3) await sleep(100);

    log(`locked: taking the write lock for ${LOCKED_MS / 1000} s`);
    const lock = await holdLock(dbUrl);
    const lockedAt = performance.now();
    const health: number[] = [];
    const puts: { status: number; ms: number; retryAfter: string | null }[] = [];
    const ready: { at: number; status: number }[] = [];
    let stop = false;
    const healthLoop = (async () => {
      while (!stop) health.push((await timed(() => fetch(`${tock.url}/healthz`, { signal: LIMIT() }))).ms);
    })();
    const putLoop = (async () => {
      const inFlight: Promise<void>[] = [];
      for (let i = 0; !stop; i++) {
        inFlight.push(timed(() => put(`j-${i}`)).then((r) => void puts.push(r)));
        await sleep(100);
      }
      await Promise.all(inFlight);
    })();
    const readyLoop = (async () => {
      while (!stop) {
        ready.push({ at: performance.now() - lockedAt, status: (await timed(() => fetch(`${tock.url}/readyz`, { signal: LIMIT() }))).status });
        await sleep(250);
      }
    })();
    await sleep(LOCKED_MS);
    stop = true;
    await Promise.all([healthLoop, readyLoop]);
    lock.release();
    await lock.done;
    const releasedAt = performance.now();
    await putLoop;
    let readyAgainMs = -1;
    for (;;) {
      const r = await timed(() => fetch(`${tock.url}/readyz`, { signal: LIMIT() }));
      if (r.status === 200) {
        readyAgainMs = performance.now() - releasedAt;
        break;
      }
      if (performance.now() - releasedAt > 60_000) break;
      await sleep(20);
    }
    const after = await timed(() => put("after"));
    await sleep(2500); // a few more slots of the @every job
    const arrivals = await sink.dump();
    const ticks = arrivals.ids.filter((id) => id !== "");
    const h = sortedNumbers(health);
    const statuses: Record<string, number> = {};
    for (const p of puts) statuses[p.status] = (statuses[p.status] ?? 0) + 1;
    const p503 = puts.filter((p) => p.status === 503);
    const figures = {
      config: tockOverrides(),
      lockedMs: LOCKED_MS,
      healthzDuringLockMs: { n: h.length, p50: round(pct(h, 0.5)), p99: round(pct(h, 0.99)), max: round(h[h.length - 1]) },
      putsDuringLock: statuses,
      put503Ms: { max: round(Math.max(0, ...p503.map((p) => p.ms))), retryAfter: [...new Set(p503.map((p) => p.retryAfter))] },
      readyzDuringLock: { first503AfterMs: round(ready.find((r) => r.status === 503)?.at ?? -1), statuses: [...new Set(ready.map((r) => r.status))] },
      readyAgainAfterReleaseMs: round(readyAgainMs),
      putAfterRelease: after.status,
      tickArrivals: ticks.length,
      duplicateTicks: ticks.length - new Set(ticks).size,
      target: { healthzMaxMs: 50, no500: true, readyAgainWithinMs: 2000 },
    };
    const met =
      figures.healthzDuringLockMs.max <= 50 && !statuses["500"] && figures.readyzDuringLock.statuses.includes(503) && readyAgainMs >= 0 && readyAgainMs <= 2000 && after.status === 201 && figures.duplicateTicks === 0;
    await tock.stop();
    return { ...figures, met };
  } finally {
    await sink.stop();
    cleanup();
  }
}, 230_000);
