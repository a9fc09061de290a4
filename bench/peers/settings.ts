// How each peer's worker is configured, following its own documentation for I/O-bound throughput. run.ts
// writes these into the JSON next to the figures; docs/performance.md states them too.

/** BullMQ Worker options: a high concurrency factor for I/O-bound jobs, finished jobs removed. */
export const BULLMQ_SETTINGS = {
  concurrency: 256,
  removeOnComplete: { count: 0 },
  removeOnFail: { count: 1000 },
  connection: "ioredis, maxRetriesPerRequest: null",
};

/** graphile-worker runner options: those of its performance page (concurrency 24, pool 25, a local queue of
 * 500, completions unbatched) with pollInterval 100 ms instead of the default 2 s, as jobs due later
 * (run_at) are only found by polling. */
export const GRAPHILE_SETTINGS = {
  concurrency: 24,
  maxPoolSize: 25,
  pollInterval: 100,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};
