// Time is an input: the scheduler reads a Clock and arms timers through it, so tests
// move time with TestClock instead of sleeping.

export interface Clock {
  now(): number;
  /** Calls `fn` once `ms` have passed on this clock. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: number };

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    // Runtimes fire a timer over 2^31-1 ms at once; a capped one fires early, and callers re-arm.
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_483_647));
    return { id: t as unknown as number, t } as TimerHandle;
  },
  clearTimer(handle) {
    clearTimeout((handle as unknown as { t: ReturnType<typeof setTimeout> }).t);
  },
};

/** A clock that moves only when told; timers fire, in order, as `advance` or `set` passes them. */
export class TestClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Moves time to `at` (backwards too: a clock that jumps back fires nothing). */
  set(at: number | Date): void {
    const target = typeof at === "number" ? at : at.getTime();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
  }
}
