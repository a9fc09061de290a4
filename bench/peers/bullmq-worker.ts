// The BullMQ worker, a process of its own under Bun: usage bullmq-worker.ts <redis port> <sink url>.
// Each job POSTs to the sink with its job id as the `webhook-id` header (the sink's idempotency key).
// Settings: BULLMQ_SETTINGS below (also written into the bench's JSON by run.ts).
import { Worker } from "bullmq";
import { BULLMQ_SETTINGS } from "./settings.ts";

const [portText, sinkUrl] = process.argv.slice(2);
const worker = new Worker(
  "bench",
  async (job) => {
    const res = await fetch(`${sinkUrl}/bullmq`, { method: "POST", headers: { "webhook-id": String(job.id) } });
    await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  },
  {
    connection: { host: "127.0.0.1", port: Number(portText), maxRetriesPerRequest: null },
    concurrency: BULLMQ_SETTINGS.concurrency,
    removeOnComplete: BULLMQ_SETTINGS.removeOnComplete,
    removeOnFail: BULLMQ_SETTINGS.removeOnFail,
  },
);
worker.on("error", (e) => console.error(`worker error: ${e.message}`));
await worker.waitUntilReady();
console.log(JSON.stringify({ ready: "bullmq" }));
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    void worker.close().finally(() => process.exit(0));
  });
}
