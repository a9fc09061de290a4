// Sends the outbox (store/deliveries.ts): deliveries written with the ends of runs, such as a facade's
// completion callbacks. Any node takes due rows with a lease, renders each with the renderer of its kind,
// sends it through the HTTP executor (so the egress policy and the callback signature apply) and records
// the outcome; a failure is retried with backoff, so a receiver that is down, or a node that dies before
// sending, delays a delivery but does not lose it.
import type { Clock } from "../clock.ts";
import type { Delivery, RenderDelivery } from "../domain/deliveries.ts";
import { type Executors, errorText } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { type DeliveryRow, dropDelivery, nextDeliveryAt, recordAttempt, releaseDeliveries, takeDeliveries } from "../store/deliveries.ts";
import { Passes } from "./passes.ts";

export interface DelivererDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  executors: Pick<Executors, "http">;
  nodeId: string;
  /** The renderer of each kind of delivery. */
  renderers: Readonly<Record<string, RenderDelivery>>;
  /** Due rows are looked for at least this often (rows written by other nodes, or left by a dead one). */
  pollMs: number;
}

/** Attempts before a delivery is given up, and the backoff between them (doubling from 1 s, at most 5 min). */
export const MAX_ATTEMPTS = 12;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** Deliveries sent at once by one node. */
const IN_FLIGHT = 50;
/** No attempt takes longer than this, whatever its renderer asks. */
const MAX_SEND_MS = 60_000;
/** How long a node holds a delivery it sends: past its timeout, so a live sender is never overtaken. */
const LEASE_MARGIN_MS = 10_000;

export const backoffMs = (attempt: number) => Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempt - 1));

/** Why a send ended early: this node is stopping (the delivery is put back, not counted as an attempt). */
class Stopping extends Error {}

export class Deliverer {
  readonly #passes: Passes;
  #inFlight = new Set<Promise<void>>();
  #abort = new AbortController();
  #started: Promise<void> | null = null;

  constructor(private readonly deps: DelivererDeps) {
    this.#passes = new Passes(deps.clock, () => this.#pass());
  }

  /** Starts sending; a node with no renderer (no facade that promises deliveries) sends nothing. */
  start(): void {
    if (Object.keys(this.deps.renderers).length === 0) return;
    this.#passes.start();
    // What this node held when it last stopped or died is its to send again now.
    this.#started = releaseDeliveries(this.deps.store, this.deps.nodeId).catch((e) => this.deps.log.warn("could not release this node's deliveries", { error: errorText(e) }));
    this.wake();
  }

  /** Looks for due deliveries now (a run end just wrote some). */
  wake(): void {
    this.#passes.wake();
  }

  /** Stops taking deliveries; those being sent are cut short and put back for the next node (or start). */
  async stop(): Promise<void> {
    if (this.#passes.stopped && !this.#started) return;
    this.#abort.abort(new Stopping());
    await this.#passes.stop();
    await Promise.all(this.#inFlight);
    await releaseDeliveries(this.deps.store, this.deps.nodeId).catch(() => {}); // else their leases lapse
    this.#started = null;
  }

  /** Resolves once nothing is being taken or sent (tests). */
  async idle(): Promise<void> {
    while (this.#passes.running || this.#inFlight.size > 0) {
      await this.#passes.running;
      await Promise.all(this.#inFlight);
    }
  }

  async #pass(): Promise<number> {
    const { store, clock, nodeId, pollMs } = this.deps;
    let wait = pollMs; // rows other nodes write, or a dead node leaves, are found at the next poll
    try {
      await this.#started;
      const now = clock.now();
      // A read first: most passes find nothing due, and a read takes no write lock.
      const next = await nextDeliveryAt(store);
      const room = IN_FLIGHT - this.#inFlight.size;
      if (next !== null && next <= now && room > 0) {
        const rows = await takeDeliveries(store, nodeId, now, now + MAX_SEND_MS + LEASE_MARGIN_MS, room);
        for (const row of rows) this.#track(this.#send(row));
      } else if (next !== null && next > now) {
        wait = Math.min(pollMs, next - now);
      }
    } catch (e) {
      this.deps.log.warn("could not read the deliveries", { error: errorText(e) });
    }
    return wait;
  }

  #track(p: Promise<void>) {
    this.#inFlight.add(p);
    void p.finally(() => {
      this.#inFlight.delete(p);
      this.wake(); // room for more, and the next retry's timer
    });
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
      if (req === null) return await this.#record(row, () => dropDelivery(store, row.id)); // nothing left to send
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
        AbortSignal.any([this.#abort.signal, AbortSignal.timeout(Math.min(req.timeoutMs, MAX_SEND_MS))]),
      );
      if (this.#abort.signal.aborted) return; // stopping: put back at stop, not an attempt
      if (outcome.status === "succeeded") return await this.#record(row, () => recordAttempt(store, row.id, nodeId, { delivered: true, at: clock.now() }));
      error = outcome.error ?? "failed";
    } catch (e) {
      if (this.#abort.signal.aborted) return;
      error = errorText(e);
    }
    const retryAt = attempt < MAX_ATTEMPTS ? clock.now() + backoffMs(attempt) : null;
    log.warn(`${label} failed`, { run: row.runId, url: shownUrl, attempt, error, retryInMs: retryAt === null ? null : retryAt - clock.now() });
    await this.#record(row, () => recordAttempt(store, row.id, nodeId, { delivered: false, at: clock.now(), error, retryAt }));
  }

  /** Records what became of a delivery; if that fails, its lease lapses and it is taken again. */
  async #record(row: DeliveryRow, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (e) {
      this.deps.log.warn("could not record a delivery's outcome", { delivery: row.id, run: row.runId, error: errorText(e) });
    }
  }
}
