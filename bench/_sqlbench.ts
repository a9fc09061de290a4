import { openStore } from "../src/store/client.ts";
import { seedOneShots } from "./seed.ts";
import { dueJobs, claimSlots } from "../src/store/claims.ts";
import { markRunning } from "../src/store/marks.ts";
import { recordEnds } from "../src/store/finishes.ts";
import { write } from "../src/store/sql.ts";
import { rmSync } from "node:fs";
const N = Number(process.env.N ?? 50000);
const variant = process.env.V ?? "";
const file = `/tmp/sb/t-${process.pid}.db`;
const url = `file:${file}`;
await seedOneShots(url, "drain", N, new Date(Date.now() - 1000).toISOString(), "http://127.0.0.1:1/x");
const store = await openStore({ url });
if (process.env.THREAD) { const { threadDb } = await import("/tmp/wproto/thread.ts"); store.sql = threadDb(file, 10); }
for (const s of variant.split(";").filter(Boolean)) await store.sql.execute(s);
const t: Record<string, number> = { select: 0, claim: 0, mark: 0, finish: 0 };
const now = Date.now();
let done = 0;
import { readFileSync } from "node:fs";
const mainCpu = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8"); const x = f.slice(f.lastIndexOf(")") + 2).split(" "); return (Number(x[11]) + Number(x[12])) * 10; };
const m0 = mainCpu();
const cpu0 = process.cpuUsage();
const w0 = performance.now();
while (done < N) {
  let a = performance.now();
  const jobs = await dueJobs(store, now + 5000, 1000, ["http", "tcp", "process", "script", "container"].map(String));
  t.select += performance.now() - a;
  if (!jobs.length) break;
  a = performance.now();
  const runs = await claimSlots(store, { nodeId: "n1", leaseUntil: now + 30000, now, fire: jobs.map((j) => [j.id, j.nextFireAt!, j.version]), broadcast: [], liveFor: 5000, skipped: [], advance: jobs.map((j) => [j.id, null, 1, j.version]) });
  t.claim += performance.now() - a;
  for (let i = 0; i < runs.length; i += 500) {
    const part = runs.slice(i, i + 500);
    a = performance.now();
    const b = markRunning(part.map((r) => ({ id: r.id, dueAt: r.scheduledAt, fence: 1 })), now, "n1", null);
    b.result(await write(store, b.stmts));
    t.mark += performance.now() - a;
  }
  for (let i = 0; i < runs.length; i += 1000) {
    const part = runs.slice(i, i + 1000);
    a = performance.now();
    const b = recordEnds(part.map((r) => ({ run: { id: r.id, fence: 1, jobId: r.jobId, namespace: "drain", scheduledAt: r.scheduledAt, key: String(r.id), job: { updatedAt: 0, onEnd: null } }, status: "succeeded", startedAt: now, endedAt: now + 3, result: { status: 200, durationMs: 3 } as any, error: null, retry: null })), "n1", now);
    b.result(await write(store, b.stmts));
    t.finish += performance.now() - a;
  }
  done += runs.length;
}
const wall = performance.now() - w0;
const cpu = process.cpuUsage(cpu0);
const us = (ms: number) => Math.round((ms * 1000) / done * 10) / 10;
console.log(JSON.stringify({ variant, done, perRunUs: { select: us(t.select), claim: us(t.claim), mark: us(t.mark), finish: us(t.finish), total: us(wall), cpu: us((cpu.user + cpu.system) / 1000), mainThreadCpu: us(mainCpu() - m0) } }));
(store.sql as any).close?.(); store.close();
rmSync(file, { force: true }); rmSync(file + "-wal", { force: true }); rmSync(file + "-shm", { force: true });
