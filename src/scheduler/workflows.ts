// Advancing workflow instances on this node: after a step's run ended here (at once) and at every poll
// (ends recorded by other nodes, by recovery, or by a node that died before advancing). The database says
// what is left to advance; each instance is advanced by the domain's rules, and new step runs are claimed.
import { errorText } from "../executors/types.ts";
import type { Clock } from "../clock.ts";
import { advanceInstance } from "../domain/workflow-instances.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/client.ts";
import { unadvanced } from "../store/instances.ts";

/** Instances advanced per read of what is left. */
const BATCH = 64;

export class Advancer {
  #running: Promise<void> | null = null;
  #again = false;

  constructor(private readonly deps: { store: Store; clock: Clock; log: Logger; started: () => void }) {}

  /** A step's run ended here: advance now (or right after the sweep under way). */
  ended(): void {
    void this.sweep();
  }

  /** Resolves when the sweep under way (if any) is done. */
  settled(): Promise<void> {
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
          if (await advanceInstance(this.deps, id)) started = true;
        } catch (e) {
          // Left unadvanced: the next poll tries again.
          this.deps.log.warn("could not advance a workflow instance", { instance: id, error: errorText(e) });
        }
      }
      if (list.length === BATCH) this.#again = true;
    } while (this.#again);
    if (started) this.deps.started();
  }
}
