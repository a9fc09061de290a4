// A facade's side effect survives the death of its node: a Juice completion callback is stored with the end
// of its run, so a node killed with SIGKILL before the callback was taken delivers it after its restart.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { deliveriesOf } from "../../src/store/deliveries.ts";
import { openStore } from "../../src/store/client.ts";
import { startSink, tempDir, waitUntil } from "../helpers.ts";
import { type Proc, ROOT, startTock } from "./process.ts";

const { dir, cleanup } = tempDir("tock-outbox-");
const procs: Proc[] = [];
// The receiver is down (503) until the node has been killed.
let down = true;
const sink = startSink(() => (down ? new Response("down", { status: 503 }) : new Response("ok")));
afterAll(() => {
  for (const p of procs) p.child.kill("SIGKILL");
  sink.stop();
  cleanup();
});

const dbUrl = `file:${join(dir, "tock.db")}`;
const env = {
  TOCK_DATABASE_URL: dbUrl,
  TOCK_SCHEDULER_NODE_ID: "outbox-node",
  TOCK_SCHEDULER_POLL_INTERVAL: "200ms",
  TOCK_EXECUTORS_PROCESS_ENABLED: "true",
};
const start = () => startTock([process.execPath, join(ROOT, "src/main.ts"), "serve"], { cwd: dir, env }).then((p) => (procs.push(p), p));

test("a Juice callback not yet taken when its node is killed (kill -9) is delivered after the restart", async () => {
  const first = await start();
  const res = await fetch(`${first.url}/v1/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-Tenant-Id": "tenant" },
    body: JSON.stringify({ taskName: "report", commands: "true", callbackUrl: `${sink.url}/cb` }),
  });
  const taskId = (await res.json()).data.taskId as number;
  // The run ended and its callback was tried (and refused): the delivery waits, stored, for its next attempt.
  await waitUntil(() => sink.requests.length >= 1, "the first attempt", 15_000);
  first.child.kill("SIGKILL");
  expect(await first.exited).toBe("SIGKILL");
  const refused = sink.requests.length;

  const store = await openStore({ url: dbUrl });
  try {
    const [run] = (await store.client.execute("SELECT id, status FROM runs")).rows;
    expect(run.status).toBe("succeeded");
    const [pending] = await deliveriesOf(store, Number(run.id));
    expect(pending).toMatchObject({ kind: "juice.callback", status: "pending" });

    down = false;
    await start();
    await waitUntil(() => sink.requests.length > refused, "the callback after the restart", 20_000);
    const delivered = sink.requests.at(-1)!;
    expect(delivered.path).toBe("/cb");
    expect(delivered.headers["x-tenant-id"]).toBe("tenant");
    expect(delivered.headers["webhook-id"]).toBe(String(run.id));
    expect(JSON.parse(delivered.body)).toMatchObject({ taskId, result: "FINISHED" });
    await waitUntil(async () => (await deliveriesOf(store, Number(run.id)))[0].status === "delivered", "the delivery recorded", 5000);
  } finally {
    store.close();
  }
}, 60_000);
