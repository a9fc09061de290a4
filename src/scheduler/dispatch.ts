// Dispatching: claimed runs wait in a timer heap (only the next lookahead window is held) and are handed
// to the runner as they come due, a little ahead so that marking them running is off the critical path.
import type { Clock, TimerHandle } from "../clock.ts";
import { HeldRuns } from "./held.ts";
import type { Runner } from "./runner.ts";
import type { Claimed, SchedulerConfig } from "./types.ts";

/**
 * How long before its due time a run is marked running: the write is then off the critical path, and the
 * run starts at its due time with no database round trip. (A run marked but not yet started when the node
 * dies is recovered like any run in flight.) The lead grows with the runs held, about what marking them
 * costs, so that a burst of thousands due at one instant is marked before that instant.
 */
export const MARK_LEAD_MS = 20;
const MARK_COST_MS = 0.015;

/** Runs handed to the runner per mark write. */
const MARK_BATCH = 512;

export interface DispatchDeps {
  clock: Clock;
  config: SchedulerConfig;
  runner: Runner;
  /** Whether the scheduler is running (not yet stopping). */
  running: () => boolean;
  /** Nodes sharing the database now: memory is shared among them. */
  liveNodes: () => number;
  /** Claim again now rather than at the next poll. */
  wake: () => void;
}

export class Dispatcher {
  readonly held = new HeldRuns();
  #timer: TimerHandle | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #dispatching = false;
  #again = false;
  #capped = false;

  constructor(private readonly deps: DispatchDeps) {}

  get dispatching(): boolean {
    return this.#dispatching;
  }

  /** Never fewer held than a few claim batches, or twice what may run at once: enough to stay busy. */
  get #floor(): number {
    const c = this.deps.config;
    return Math.max(c.batchSize * 4, c.maxInFlight * 2);
  }

  /**
   * Memory holds only what is due within the lookahead, up to max_held shared among the live nodes (so a
   * burst is spread over a cluster, and held whole by a node alone), and never less than the floor.
   */
  get #cap(): number {
    return Math.max(this.#floor, Math.floor(this.deps.config.maxHeld / this.deps.liveNodes()));
  }

  /** The limit the last claim stopped at. */
  #stoppedAt = 0;

  /** A claim cycle begins: nothing is known yet to be left unclaimed. */
  claiming(): void {
    this.#capped = false;
  }

  /**
   * Whether the heap is full: the claim stops there (and is resumed once the heap has half drained). Runs
   * held for a time still to come fill it up to the cap. When the earliest held run is due already, the
   * node is behind (a backlog): its runs wait for capacity, not for their time, so holding more than the
   * floor would only cost memory; the rest wait in the database, claimed as these go.
   */
  full(): boolean {
    const size = this.held.size;
    if (size < this.#floor) return false;
    const top = this.held.peek();
    const limit = top !== undefined && top.dueAt <= this.deps.clock.now() ? this.#floor : this.#cap;
    if (size < limit) return false;
    this.#capped = true;
    this.#stoppedAt = limit;
    return true;
  }

  /** Takes claimed runs into the heap. */
  hold(runs: Claimed[]): void {
    if (this.held.add(runs, (id) => this.deps.runner.has(id)) > 0) this.#arm();
  }

  /** At stop: no timer is left. */
  stop(): void {
    if (this.#timer) this.deps.clock.clearTimer(this.#timer);
    this.#timer = null;
  }

  get #lead(): number {
    return MARK_LEAD_MS + this.held.size * MARK_COST_MS;
  }

  /**
   * Whether runs already due may be marked (besides `adding` being marked now): they wait in the heap,
   * unmarked, while a full ready queue is ahead of them or very many runs wait for their hosts.
   */
  #roomForDue(adding: number): boolean {
    return this.#roomInReady(adding) && this.deps.runner.parkedCount < 4 * this.deps.config.maxInFlight;
  }

  /** Whether the ready queue has room for `adding` more (then only runs waiting for limits keep due runs back). */
  #roomInReady(adding: number): boolean {
    return this.deps.runner.readyCount + adding < this.deps.config.maxInFlight;
  }

  /**
   * Arms the one dispatch timer: for the next held run, a little before it is due (to mark it running in
   * time), or for the next ready run at its due time. At capacity, the next run to end dispatches instead.
   */
  #arm() {
    if (!this.deps.running()) return;
    const { clock } = this.deps;
    let at = Number.POSITIVE_INFINITY;
    const top = this.held.peek();
    if (top && (top.dueAt > clock.now() || this.#roomForDue(0))) at = top.dueAt - this.#lead;
    const start = this.deps.runner.nextStartAt;
    if (start !== null) at = Math.min(at, start);
    if (at === Number.POSITIVE_INFINITY) return;
    if (this.#timer && at >= this.#timerAt) return;
    if (this.#timer) clock.clearTimer(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimer(at - clock.now(), () => {
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      void this.dispatch();
    });
  }

  /**
   * Hands held runs due within the mark lead to the runner, which marks them running in batches, then lets
   * it start those whose time has come (never early: the runner checks the clock, and a timer that fired
   * early re-arms). Calls during a dispatch make it go round once more.
   */
  async dispatch(): Promise<void> {
    if (!this.deps.running()) return;
    if (this.#dispatching) {
      this.#again = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#again = false;
        for (;;) {
          const now = this.deps.clock.now();
          const lead = this.#lead;
          const batch: Claimed[] = [];
          // Due runs of namespaces whose runs already wait for their limit, passed over (see below).
          const aside: Claimed[] = [];
          while (batch.length < MARK_BATCH) {
            const top = this.held.peek();
            if (!top || top.dueAt > now + lead) break;
            if (top.dueAt <= now && !this.#roomForDue(batch.length)) {
              // A full ready queue holds every run back, and so do many runs waiting for their hosts. Runs
              // waiting for their namespace's limit hold back only that namespace: one namespace whose runs
              // hang ([limits] max_in_flight) must not stop the others' from starting.
              if (!this.#roomInReady(batch.length) || aside.length >= MARK_BATCH) break;
              const waits = this.deps.runner.backlog(top);
              if (waits === "host") break;
              const run = this.held.take();
              if (run) (waits === "namespace" ? aside : batch).push(run);
              continue;
            }
            const run = this.held.take();
            if (run) batch.push(run);
          }
          if (aside.length) this.held.add(aside, () => false);
          // The last claim stopped at the memory cap, so more is due: claim again now, not at the next poll.
          if (this.#capped && this.held.size < this.#stoppedAt / 2) {
            this.#capped = false;
            this.deps.wake();
          }
          if (batch.length === 0) break;
          await this.deps.runner.prepare(batch);
        }
        this.deps.runner.pump();
      } while (this.#again && this.deps.running());
    } finally {
      this.#dispatching = false;
      this.#arm();
    }
  }
}
