// One interface for every executor. Timeouts and kills arrive as an aborted signal; the scheduler, which
// owns the signal, decides whether that was a timeout or a kill.

export interface ExecRequest {
  runId: number;
  /** The idempotency key shared by every attempt of a slot (HTTP `webhook-id`). */
  key: string;
  namespace: string;
  jobName: string;
  scheduledAt: number;
  attempt: number;
  target: unknown;
  payload: unknown;
}

export interface Outcome {
  status: "succeeded" | "failed";
  result?: Record<string, unknown>;
  error?: string;
  /** The callee asked to be retried no sooner than this (HTTP 429/503 Retry-After). */
  retryAfterMs?: number;
}

export interface Executor {
  execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome>;
}

export type TargetKind = "http" | "tcp";
export type Executors = Record<TargetKind, Executor>;

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
