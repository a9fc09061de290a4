// The contract between a facade that promises its clients something when a run ends (Juice's completion
// callback) and the scheduler's deliverer that sends it: the facade renders a stored delivery into a
// request when it is due; the deliverer sends it, retries it and records it. Neither imports the other.

/** A stored delivery that is due (table deliveries): what to send is decided when it is sent. */
export interface Delivery {
  id: number;
  runId: number;
  kind: string;
  namespace: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** The HTTP request a delivery makes; sent by the scheduler like a callback (egress-checked, signed). */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** What the log calls it ("juice callback") and shows of its URL (no password). */
  label: string;
  shownUrl: string;
  /** The run it reports: its idempotency key travels as `webhook-id`. */
  run: { id: number; webhookId: string; jobName: string; scheduledAt: number; attempt: number };
  /** How long one attempt may take. */
  timeoutMs: number;
}

/**
 * Renders a due delivery of one kind into its request, from the run and job as stored now; null when there
 * is nothing to send any more (the job was removed, or it no longer asks for it).
 */
export type RenderDelivery = (delivery: Delivery) => Promise<OutgoingRequest | null>;
