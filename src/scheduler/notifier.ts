// Sends the notifications stored with run and instance ends: any node takes due rows with a lease, holds back
// a failure its job or workflow sent too soon after the last one ([notify] min_interval: stored suppressed,
// counted, and the next one sent says how many), and POSTs the rest through the HTTP executor, so the egress
// policy and the callback signature apply. A failure is retried with backoff, as a delivery is.
import type { Clock } from "../clock.ts";
import { RATE_LIMITED } from "../domain/notify.ts";
import { type Executors, errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { type NotificationRow, nextNotificationAt, recordNotification, releaseNotifications, takeNotifications, takeWindow } from "../store/notifications.ts";
import { backoffMs, MAX_ATTEMPTS } from "./deliveries.ts";
import { Passes } from "./passes.ts";

export interface NotifierDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  executors: Pick<Executors, "http">;
  nodeId: string;
  minIntervalMs: number;
  /** Due rows are looked for at least this often (rows other nodes wrote, or a dead one left). */
  pollMs: number;
}

/** Notifications taken per pass, and how long one attempt may take. */
const BATCH = 20;
const SEND_MS = 10_000;
const LEASE_MS = SEND_MS + 10_000;

export class Notifier {
  readonly #passes: Passes;
  #abort = new AbortController();

  constructor(private readonly deps: NotifierDeps) {
    this.#passes = new Passes(deps.clock, () => this.#pass());
  }

  start(): void {
    this.#passes.start();
    void releaseNotifications(this.deps.store, this.deps.nodeId)
      .catch((e) => this.deps.log.warn("could not release this node's notifications", { error: errorText(e) }))
      .then(() => this.wake());
  }

  /** Looks for due notifications now (an end just stored some). */
  wake(): void {
    this.#passes.wake();
  }

  async stop(): Promise<void> {
    if (this.#passes.stopped) return;
    this.#abort.abort();
    await this.#passes.stop();
    await releaseNotifications(this.deps.store, this.deps.nodeId).catch(() => {});
  }

  /** Resolves once nothing is being taken or sent (tests). */
  async idle(): Promise<void> {
    while (this.#passes.running) await this.#passes.running;
  }

  /** Sends the due notifications one after another: a job's are held to min_interval in the order written. */
  async #pass(): Promise<number> {
    const { store, clock, nodeId, pollMs } = this.deps;
    let wait = pollMs;
    try {
      const now = clock.now();
      const next = await nextNotificationAt(store);
      if (next !== null && next <= now) {
        const rows = await takeNotifications(store, nodeId, now, now + LEASE_MS, BATCH);
        for (const row of rows) {
          if (this.#abort.signal.aborted) break;
          await this.#send(row).catch((e) => this.deps.log.warn("could not send a notification", { notification: row.id, error: errorText(e) }));
        }
        wait = 0; // at once: more may be due, and a failed one's retry sets the next wait
      } else if (next !== null) {
        wait = Math.min(pollMs, next - now);
      }
    } catch (e) {
      this.deps.log.warn("could not read the notifications", { error: errorText(e) });
    }
    return wait;
  }

  async #send(row: NotificationRow): Promise<void> {
    const { store, clock, nodeId, log, minIntervalMs } = this.deps;
    let suppressed = 0;
    if (RATE_LIMITED.has(row.event)) {
      const window = await takeWindow(store, row, nodeId, clock.now(), clock.now() - minIntervalMs);
      if (!window?.send) return;
      suppressed = window.suppressed;
    }
    const document = suppressed > 0 ? { ...row.document, suppressed } : row.document;
    const attempt = row.attempts + 1;
    let error: string;
    try {
      const outcome = await this.deps.executors.http.execute(
        {
          runId: row.runId ?? 0,
          key: `notification-${row.id}`,
          namespace: row.namespace,
          jobName: String(row.document.job ?? row.document.workflow ?? ""),
          scheduledAt: row.createdAt,
          attempt,
          target: { url: row.url, method: "POST", headers: { ...row.headers, "content-type": "application/json" }, body: JSON.stringify(document) },
          payload: null,
        },
        AbortSignal.any([this.#abort.signal, AbortSignal.timeout(SEND_MS)]),
      );
      if (this.#abort.signal.aborted) return;
      if (outcome.status === "succeeded") return await recordNotification(store, row.id, nodeId, { delivered: true, at: clock.now() });
      error = outcome.error ?? "failed";
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      error = errorText(e);
    }
    const retryAt = attempt < MAX_ATTEMPTS ? clock.now() + backoffMs(attempt) : null;
    log.warn("notification failed", { notification: row.id, event: row.event, attempt, error, retryInMs: retryAt === null ? null : retryAt - clock.now() });
    await recordNotification(store, row.id, nodeId, { delivered: false, at: clock.now(), error, retryAt }).catch((e) =>
      log.warn("could not record a notification's outcome", { notification: row.id, error: errorText(e) })
    );
  }
}
