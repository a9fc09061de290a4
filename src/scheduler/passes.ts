// The loop of a sender that works in passes (the deliverer, the notifier): a pass runs when woken and again
// after the wait it asks for; never two at once, and a wake during one runs another right after it.
import type { Clock, TimerHandle } from "../clock.ts";

export class Passes {
  #timer: TimerHandle | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = true;

  /** `pass` does one pass and resolves with how long to wait before the next one unless woken (0: none). */
  constructor(
    private readonly clock: Clock,
    private readonly pass: () => Promise<number>,
  ) {}

  get stopped(): boolean {
    return this.#stopped;
  }

  /** The pass under way, if any. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  start(): void {
    this.#stopped = false;
  }

  /** Runs a pass now (or right after the one under way). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.pass()
      .then((wait) => {
        // No wait: the next pass runs right after this one, not on a timer.
        if (wait <= 0) this.#again = true;
        else if (!this.#stopped) this.#arm(wait);
      })
      .finally(() => {
        this.#running = null;
        if (this.#again && !this.#stopped) {
          this.#again = false;
          this.wake();
        }
      });
  }

  /** No more passes; resolves when the one under way is done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.clock.clearTimer(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #arm(ms: number) {
    if (this.#timer) this.clock.clearTimer(this.#timer);
    this.#timer = this.clock.setTimer(ms, () => {
      this.#timer = null;
      this.wake();
    });
  }
}
