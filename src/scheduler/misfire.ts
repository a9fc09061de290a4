// Misfire handling: which of a job's missed slots run, a pure function of its plan, its policy and the time.
import { nextFire, type Plan } from "../schedule/index.ts";

export type Misfire = "skip" | "once" | "all";

export interface SlotDecision {
  /** Slots to run now. */
  fire: number[];
  /** Missed slots not run (misfire skip, or beyond the `all` cap); a lower bound when `more`. */
  skipped: number;
  /** More slots were missed than were counted. */
  more?: boolean;
  /** The job's next slot after these, or null when it has none. */
  next: number | null;
}

/**
 * Decides what to run for a job whose stored slot is `slot`. A slot older than `threshold` at `now` is a
 * misfire (the scheduler was down or behind): `skip` runs none of the missed slots, `once` runs one (the
 * latest) and `all` runs each, up to `cap`.
 */
export function decideSlots(plan: Plan, slot: number, fired: number, now: number, policy: Misfire, threshold: number, cap: number): SlotDecision {
  if (slot >= now - threshold) return { fire: [slot], skipped: 0, next: nextFire(plan, slot, fired + 1) };
  const missed: number[] = [slot];
  const limit = policy === "all" ? cap : COUNT_LIMIT;
  let t: number | null = slot;
  let more = false;
  for (;;) {
    t = nextFire(plan, t, fired + missed.length);
    if (t === null || t > now) break;
    if (missed.length >= limit) {
      more = true;
      break;
    }
    missed.push(t);
  }
  let fire: number[];
  if (policy === "skip") fire = [];
  else if (policy === "once") fire = [more ? latestBy(plan, missed[missed.length - 1], now, fired) : missed[missed.length - 1]];
  else fire = missed;
  const last = Math.max(fire[fire.length - 1] ?? 0, missed[missed.length - 1]);
  // Missed slots that were not run still count as passed: the next slot is the first after now.
  const next = nextFire(plan, Math.max(now, last), fired + fire.length);
  return { fire, skipped: missed.length - fire.length + (more ? 1 : 0), more, next };
}

/** Missed slots counted one by one at most; past that, the latest is found by searching back from now. */
const COUNT_LIMIT = 1000;

/** The last slot in (from, now], searching back from now over a widening window. */
function latestBy(plan: Plan, from: number, now: number, fired: number): number {
  for (let span = 60_000; ; span *= 4) {
    const lo = Math.max(from, now - span);
    let last = nextFire(plan, lo, fired);
    if (last !== null && last <= now) {
      for (let i = 0; i < 100_000; i++) {
        const n = nextFire(plan, last, fired);
        if (n === null || n > now) break;
        last = n;
      }
      return last;
    }
    if (lo === from) return from;
  }
}
