// Waiting on the scheduler's Clock (so tests move time instead of sleeping).
import type { Clock, TimerHandle } from "../clock.ts";

/** Resolves `done` after `ms` on the clock, unless cancelled first. */
export function after(clock: Clock, ms: number): { done: Promise<void>; cancel(): void } {
  let handle: TimerHandle | undefined;
  const done = new Promise<void>((resolve) => {
    handle = clock.setTimer(ms, resolve);
  });
  return { done, cancel: () => clock.clearTimer(handle!) };
}

/** Calls `fn` every `ms` on the clock (a fixed cadence: a slow call skips no beat) until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let handle: TimerHandle;
  const arm = () => {
    // At least 1 ms: a clock moved far ahead fires each beat once, never a beat at the same instant forever.
    handle = clock.setTimer(Math.max(1, ms), () => {
      arm();
      fn();
    });
  };
  arm();
  return () => clock.clearTimer(handle);
}
