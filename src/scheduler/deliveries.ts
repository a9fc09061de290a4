// Sends the outbox (store/deliveries.ts): deliveries written with the ends of runs, such as a facade's
// completion callbacks. Any node takes due rows with a lease, renders each with the renderer of its kind,
// sends it through the HTTP executor (so the egress policy and the callback signature apply) and records
// the outcome; a failure is retried with backoff, so a receiver that is down, or a node that dies before
// sending, delays a delivery but does not lose it.
import type { Clock, TimerHandle } from "../clock.ts";
import type { Delivery, RenderDelivery } from "../domain/ports.ts";
import { type Executors, errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { type DeliveryRow, nextDeliveryAt, recordAttempt, takeDeliveries } from "../store/deliveries.ts";

export interface DelivererDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  executors: Pick<Executors, "http">;
  nodeId: string;
  /** The renderer of each kind of delivery. */
  renderers: Readonly<Record<string, RenderDelivery>>;
  /** Due rows are looked for at least this often (rows written by other nodes). */
  pollMs: number;
}

/** Attempts before a delivery is given up, and the backoff between them (doubling from 1 s, at most 5 min). */
export const MAX_ATTEMPTS = 12;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;
const BATCH = 50;
/** No attempt takes longer than this, whatever its renderer asks. */
const MAX_SEND_MS = 60_000;
/** How long a node holds a delivery it sends: past its timeout, so a live sender is never overtaken. */
const LEASE_MARGIN_MS = 10_000;

export const backoffMs = (attempt: number) => Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));

export class Deliverer {
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;
  #inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: DelivererDeps) {}

  start(): void {
    if (Object.keys(this.deps.renderers).length === 0) return; // nothing could be rendered
    this.#stopped = false;
    this.wake();
  }

  /** Looks for due deliveries now (a run end just wrote some). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((e) => this.deps.log.warn("could not read the deliveries", { error: errorText(e) }))
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** Stops taking deliveries; those being sent finish (each within its timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.deps.clock.clearTimer(this.#timer);
    this.#timer = null;
    await this.#running;
    await Promise.all(this.#inFlight);
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
    const now = clock.now();
    // A read first: most passes find nothing due, and a read takes no write lock.
    const next = await nextDeliveryAt(store);
    let wait = pollMs; // rows other nodes write are found at the next poll
    if (next !== null && next <= now) {
      const rows = await takeDeliveries(store, nodeId, now, now + MAX_SEND_MS + LEASE_MARGIN_MS, BATCH);
      for (const row of rows) this.#track(this.#send(row));
      if (rows.length === BATCH) wait = 0; // more may be due
    } else if (next !== null) {
      wait = Math.min(pollMs, next - now);
    }
    if (this.#stopped) return;
    if (this.#timer) clock.clearTimer(this.#timer);
    this.#timer = clock.setTimer(wait, () => {
      this.#timer = null;
      this.wake();
    });
  }

  #track(p: Promise<void>) {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  async #send(row: DeliveryRow): Promise<void> {
    const { log, clock, store, nodeId } = this.deps;
    const delivery: Delivery = { id: row.id, runId: row.runId, kind: row.kind, namespace: row.namespace, attempts: row.attempts };
    const attempt = row.attempts + 1;
    let label = row.kind;
    let shownUrl: string | undefined;
    let error: string;
    try {
      const render = this.deps.renderers[row.kind];
      if (!render) throw new Error(`no renderer for deliveries of kind ${row.kind} on this node`);
      const req = await render(delivery);
      if (req === null) {
        await recordAttempt(store, row.id, nodeId, { delivered: true, at: clock.now() }); // nothing left to send
        return;
      }
      label = req.label;
      shownUrl = req.shownUrl;
      const outcome = await this.deps.executors.http.execute(
        {
          runId: req.run.id,
          key: req.run.webhookId,
          namespace: row.namespace,
          jobName: req.run.jobName,
          scheduledAt: req.run.scheduledAt,
          attempt: req.run.attempt,
          target: { url: req.url, method: "POST", headers: req.headers, body: req.body },
          payload: null,
        },
        AbortSignal.timeout(Math.min(req.timeoutMs, MAX_SEND_MS)),
      );
      if (outcome.status === "succeeded") {
        await recordAttempt(store, row.id, nodeId, { delivered: true, at: clock.now() });
        return;
      }
      error = outcome.error ?? "failed";
    } catch (e) {
      error = errorText(e);
    }
    const retryAt = attempt < MAX_ATTEMPTS ? clock.now() + backoffMs(attempt) : null;
    log.warn(`${label} failed`, { run: row.runId, url: shownUrl, attempt, error, retryInMs: retryAt === null ? null : retryAt - clock.now() });
    try {
      await recordAttempt(store, row.id, nodeId, { delivered: false, at: clock.now(), error, retryAt });
      this.wake(); // arms the timer for the retry
    } catch (e) {
      // Not recorded: the lease lapses and the delivery is taken again.
      log.warn("could not record a delivery attempt", { delivery: row.id, error: errorText(e) });
    }
  }
}
