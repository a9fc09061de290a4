// Workflows on this node: the instances of scheduled workflows started when their slots come, and instances
// advanced after a step's run ended here (at once) and at every poll (ends recorded by other nodes, by
// recovery, or by a node that died before advancing). The database says what is left to do; each instance
// is advanced by the domain's rules, and new step runs are claimed.
import { errorText } from "../executors/types.ts";
import type { NotifySettings } from "../domain/notify.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import { advanceInstance } from "../domain/workflow-instances.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { unadvanced } from "../store/instances.ts";
import { dueWorkflows, fireWorkflow, nextWorkflowFire, workflowWork } from "../store/workflows.ts";
import type { Plan } from "../schedule/index.ts";
import { decideSlots } from "./misfire.ts";
import type { SchedulerConfig } from "./types.ts";

/** Instances advanced per read of what is left. */
const BATCH = 64;

export interface WorkflowsDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  config: Pick<SchedulerConfig, "nodeId" | "misfireThreshold" | "misfireAllCap" | "pollInterval">;
  /** New runs are queued (steps that became due): claim now. */
  wake: () => void;
  /** [notify], and whom to tell when an instance's end stored notifications. */
  notify?: NotifySettings;
  notifications?: { wake(): void };
}

/** This node's part in workflows: starting the instances of slots that came, and advancing instances. */
export class Workflows {
  #running: Promise<void> | null = null;
  #again = false;
  #timer: TimerHandle | null = null;
  #closed = false;

  constructor(private readonly deps: WorkflowsDeps) {}

  /**
   * At each claim cycle: instances of the slots that came are started, then every instance advanced. One
   * read when there is nothing to do (a node with no workflows pays that much).
   */
  async cycle(): Promise<void> {
    const { store, clock, config, log } = this.deps;
    let pending = true;
    try {
      let { next, unadvanced } = await workflowWork(store);
      if (next !== null && next <= clock.now()) ({ next } = await fireDueWorkflows(store, clock.now(), config)), (unadvanced = true);
      this.#arm(next);
      pending = unadvanced;
    } catch (e) {
      log.warn("could not start the instances of scheduled workflows", { error: errorText(e) });
    }
    if (pending) await this.sweep();
  }

  /** A slot due before the next poll wakes the node at its time, not up to a poll interval late. */
  #arm(next: number | null) {
    const { clock, config } = this.deps;
    if (this.#timer) clock.clearTimer(this.#timer);
    this.#timer = null;
    if (next === null || this.#closed) return;
    const wait = Math.max(0, next - clock.now());
    if (wait < config.pollInterval) this.#timer = clock.setTimer(wait, () => ((this.#timer = null), this.deps.wake()));
  }

  /** A step's run ended here: advance now (or right after the sweep under way). */
  ended(): void {
    if (!this.#closed) void this.sweep();
  }

  /** Stops the timer; resolves when the sweep under way (if any) is done. */
  close(): Promise<void> {
    this.#closed = true;
    this.#arm(null);
    return this.#running ?? Promise.resolve();
  }

  /** Advances every instance with step ends not yet advanced; resolves when none is left that it saw. */
  sweep(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => (this.#running = null));
    return this.#running;
  }

  async #loop() {
    let started = false;
    do {
      this.#again = false;
      let list: { id: number }[];
      try {
        list = await unadvanced(this.deps.store, BATCH);
      } catch (e) {
        this.deps.log.warn("could not read the workflow instances to advance", { error: errorText(e) });
        break;
      }
      for (const { id } of list) {
        try {
          const done = await advanceInstance(this.deps, id);
          if (done.started) started = true;
          if (done.notified) this.deps.notifications?.wake();
        } catch (e) {
          // Left unadvanced: the next poll tries again.
          this.deps.log.warn("could not advance a workflow instance", { instance: id, error: errorText(e) });
        }
      }
      if (list.length === BATCH) this.#again = true;
    } while (this.#again);
    if (started) this.deps.wake();
  }
}

/**
 * Starts the instances of workflows whose slot has come (never before it), as their misfire policy says for
 * slots missed while no node ran; a slot is started once whichever nodes fire it (store: fireWorkflow).
 * Returns whether it started any, and when the next slot of any workflow comes.
 */
export async function fireDueWorkflows(store: Store, now: number, config: Pick<SchedulerConfig, "nodeId" | "misfireThreshold" | "misfireAllCap">): Promise<{ fired: boolean; next: number | null }> {
  let fired = false;
  for (const w of await dueWorkflows(store, now, 100)) {
    const d = decideSlots(w.plan as Plan, w.nextFireAt!, w.firedCount, now, w.misfire, config.misfireThreshold, config.misfireAllCap);
    const token = `${config.nodeId}:${crypto.randomUUID()}`;
    if (await fireWorkflow(store, w, d.fire, d.next, token, now)) fired ||= d.fire.length > 0;
  }
  return { fired, next: await nextWorkflowFire(store) };
}
