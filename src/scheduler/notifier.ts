// Sends the notifications stored with run and instance ends: any node takes due rows with a lease, holds back
// a failure its job or workflow sent too soon after the last one ([notify] min_interval: stored suppressed,
// counted, and the next one sent says how many), and POSTs the rest through the HTTP executor, so the egress
// policy and the callback signature apply. A failure is retried with backoff, as a delivery is.
import type { Clock, TimerHandle } from "../clock.ts";
import { RATE_LIMITED } from "../domain/notify.ts";
import { type Executors, errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { type NotificationRow, nextNotificationAt, recordNotification, releaseNotifications, takeNotifications, takeWindow } from "../store/notifications.ts";
import { backoffMs, MAX_ATTEMPTS } from "./deliveries.ts";

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

/** Notifications sent at once by one node, and how long one attempt may take. */
const IN_FLIGHT = 20;
const SEND_MS = 10_000;
const LEASE_MS = SEND_MS + 10_000;

export class Notifier {
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #inFlight = new Set<Promise<void>>();
  #abort = new AbortController();

  constructor(private readonly deps: NotifierDeps) {}

  start(): void {
    this.#stopped = false;
    void releaseNotifications(this.deps.store, this.deps.nodeId)
      .catch((e) => this.deps.log.warn("could not release this node's notifications", { error: errorText(e) }))
      .then(() => this.wake());
  }

  /** Looks for due notifications now (an end just stored some). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.wake();
      }
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) this.deps.clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#abort.abort();
    await this.#running;
    await Promise.all(this.#inFlight);
    await releaseNotifications(this.deps.store, this.deps.nodeId).catch(() => {});
  }

  /** Resolves once nothing is being taken or sent (tests). */
  async idle(): Promise<void> {
    while (this.#running || this.#inFlight.size > 0) {
      await this.#running;
      await Promise.all(this.#inFlight);
    }
  }

  async #pass(): Promise<void> {
    const { store, clock, nodeId, pollMs } = this.deps;
    let wait = pollMs;
    try {
      const now = clock.now();
      const next = await nextNotificationAt(store);
      const room = IN_FLIGHT - this.#inFlight.size;
      if (next !== null && next <= now && room > 0) {
        // In order: a job's notifications are held to min_interval in the order they were written.
        const rows = await takeNotifications(store, nodeId, now, now + LEASE_MS, room);
        for (const row of rows) {
          const p = this.#send(row);
          this.#inFlight.add(p);
          void p.finally(() => {
            this.#inFlight.delete(p);
            this.wake();
          });
          await p.catch(() => {});
        }
      } else if (next !== null && next > now) {
        wait = Math.min(pollMs, next - now);
      }
    } catch (e) {
      this.deps.log.warn("could not read the notifications", { error: errorText(e) });
    } finally {
      if (!this.#stopped) this.#arm(wait);
    }
  }

  #arm(ms: number) {
    const { clock } = this.deps;
    if (this.#timer) clock.clearTimer(this.#timer);
    this.#timer = clock.setTimer(ms, () => {
      this.#timer = null;
      this.wake();
    });
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
