// Typed scheduler events: tests and the CLI observe the scheduler by events, not sleeps.
import type { RunEvent } from "../domain/ports.ts";
import type { Claimed } from "./types.ts";

export type { RunEvent };

/** The event of a run's change of state. */
export function runEvent(run: Claimed, status: string): RunEvent {
  return {
    runId: run.id,
    jobId: run.jobId,
    namespace: run.namespace,
    jobName: run.jobName,
    scheduledAt: run.scheduledAt,
    attempt: run.attempt,
    trigger: run.trigger,
    status,
  };
}

export interface SchedulerEvents {
  /** Marked running, waiting for its due time or capacity. */
  "run:ready": RunEvent;
  "run:started": RunEvent;
  "run:finished": RunEvent;
  tick: { claimed: number; at: number };
  /** Lines of a run's output were committed to run_logs, up to `seq`. */
  "run:log": { runId: number; seq: number };
}

type Listener<T> = (event: T) => void;

export class Emitter {
  #listeners = new Map<keyof SchedulerEvents, Set<Listener<never>>>();

  on<K extends keyof SchedulerEvents>(name: K, fn: Listener<SchedulerEvents[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** Whether anyone listens: spares building an event nobody reads. */
  has(name: keyof SchedulerEvents): boolean {
    return this.count(name) > 0;
  }

  /** How many listeners `name` has. */
  count(name: keyof SchedulerEvents): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  emit<K extends keyof SchedulerEvents>(name: K, event: SchedulerEvents[K]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const fn of set) {
      try {
        (fn as Listener<SchedulerEvents[K]>)(event);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Resolves with the next event of `name` that satisfies `pred`. */
  next<K extends keyof SchedulerEvents>(name: K, pred: (e: SchedulerEvents[K]) => boolean = () => true, timeoutMs = 10_000): Promise<SchedulerEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(name, (e) => {
        if (!pred(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }
}
