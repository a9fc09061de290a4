// Who a process is, beyond its pid: pids are reused, so a process is named by this machine's boot id and
// its start time (Linux /proc). A run's process group left behind by a tock that died (kill -9) is ended
// by the recovery of that run on the same machine, and only if its leader is still that same process.
import { readFileSync } from "node:fs";
import process from "node:process";

let boot: string | null | undefined;

/** This machine's boot id (changes at each boot), or null where /proc does not tell it. */
export function bootId(): string | null {
  if (boot === undefined) {
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim() || null;
    } catch {
      boot = null;
    }
  }
  return boot;
}

/**
 * The fields of /proc/<pid>/stat from the third (state) on: the command name before them may hold spaces
 * and parentheses, so they start after its last ")". `count` keeps only the first few. Null when gone.
 */
export function statFields(pid: number | string, count?: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ", count);
  } catch {
    return null;
  }
}

/** When process `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22), or null. */
const startTicks = (pid: number): string | null => statFields(pid, 20)?.[19] ?? null;

/** "<boot id>:<start time>" of a live process, or null where that cannot be told (not Linux, gone). */
export function processIdentity(pid: number): string | null {
  const b = bootId();
  const t = b === null ? null : startTicks(pid);
  return b === null || t === null ? null : `${b}:${t}`;
}

/** Whether `identity` names a process of this machine since its last boot. */
export const onThisMachine = (identity: string): boolean => bootId() !== null && identity.startsWith(`${bootId()}:`);

/**
 * Ends process group `pgid` (SIGKILL) if its leader is still the process `identity` names; true if it was
 * signalled. A pid reused by another process has another start time, and is never hit.
 */
export function endStaleGroup(pgid: number, identity: string): boolean {
  if (!(pgid > 1) || processIdentity(pgid) !== identity) return false;
  try {
    process.kill(-pgid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}
