// The graphile-worker runner, a process of its own under Bun: usage graphile-worker.ts <connection string>
// <sink url>. Its one task, `hit`, POSTs to the sink with the job id as the `webhook-id` header. It learns
// of new jobs by LISTEN/NOTIFY and of jobs coming due (run_at) by polling every pollInterval.
// Settings: GRAPHILE_SETTINGS below (also written into the bench's JSON by run.ts).
import { Logger, run } from "graphile-worker";
import { GRAPHILE_SETTINGS } from "./settings.ts";

const [connectionString, sinkUrl] = process.argv.slice(2);
const { concurrency, maxPoolSize, pollInterval, ...rest } = GRAPHILE_SETTINGS;
const runner = await run({
  connectionString,
  concurrency,
  maxPoolSize,
  pollInterval,
  noHandleSignals: true,
  logger: new Logger(() => (level, message) => {
    if (level === "error" || level === "warning") console.error(`${level}: ${message}`);
  }),
  preset: { worker: rest },
  taskList: {
    hit: async (_payload, helpers) => {
      const res = await fetch(`${sinkUrl}/graphile`, { method: "POST", headers: { "webhook-id": String(helpers.job.id) } });
      await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
    },
  },
});
console.log(JSON.stringify({ ready: "graphile-worker" }));
for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    void runner.stop().finally(() => process.exit(0));
  });
}
await runner.promise;
