// The overlap policy as a pure decision: what becomes of a run due to start while runs of its job are in
// flight, by policy, maxConcurrency and catch-up; and the room each run has across nodes.
import { describe, expect, test } from "bun:test";
import { clusterLimit, clusterRooms, decideOverlap, MAX_WAITING, skipReason } from "../../src/scheduler/overlap.ts";
import type { Claimed, JobExec } from "../../src/scheduler/types.ts";

describe("one run in flight, no maxConcurrency", () => {
  test("every policy starts a run while none of its job is in flight", () => {
    for (const policy of ["allow", "forbid", "replace", "queue"] as const) expect(decideOverlap(policy, null, false, 0, 0)).toBe("start");
  });

  test("allow starts it alongside, however many are in flight", () => {
    expect(decideOverlap("allow", null, false, 1, 0)).toBe("start");
    expect(decideOverlap("allow", null, false, 10_000, 0)).toBe("start");
  });

  test("forbid skips it, saying why", () => {
    expect(decideOverlap("forbid", null, false, 1, 0)).toBe("skip");
    expect(skipReason("forbid")).toBe("overlap: the job's previous run was still running (policy forbid)");
  });

  test("replace starts it in place of the run in flight", () => {
    expect(decideOverlap("replace", null, false, 1, 0)).toBe("replace");
  });

  test("queue makes it wait for its turn, until MAX_WAITING already wait; then it is skipped", () => {
    expect(decideOverlap("queue", null, false, 1, 0)).toBe("wait");
    expect(decideOverlap("queue", null, false, 1, MAX_WAITING - 1)).toBe("wait");
    expect(decideOverlap("queue", null, false, 1, MAX_WAITING)).toBe("skip");
    expect(skipReason("queue")).toBe(`overlap: ${MAX_WAITING} runs of the job already wait for their turn (policy queue)`);
  });
});

describe("maxConcurrency", () => {
  test("runs start up to the limit, whatever the policy", () => {
    for (const policy of ["allow", "forbid", "replace", "queue"] as const) {
      expect(decideOverlap(policy, 3, false, 2, 0)).toBe("start");
      expect(decideOverlap(policy, 3, false, 3, 0)).not.toBe("start");
    }
  });

  test("at the limit, forbid skips, replace replaces, queue and allow wait their turn", () => {
    expect(decideOverlap("forbid", 2, false, 2, 0)).toBe("skip");
    expect(decideOverlap("replace", 2, false, 2, 0)).toBe("replace");
    expect(decideOverlap("queue", 2, false, 2, 0)).toBe("wait");
    expect(decideOverlap("allow", 2, false, 2, 0)).toBe("wait");
    expect(decideOverlap("allow", 2, false, 2, MAX_WAITING)).toBe("skip");
    expect(skipReason("allow")).toContain("(policy allow)");
  });
});

describe("catch-up runs (missed slots run by misfire all)", () => {
  test("wait for the job's earlier run whatever the policy, and are never skipped for a full queue", () => {
    for (const policy of ["forbid", "replace", "queue"] as const) {
      expect(decideOverlap(policy, null, true, 1, 0)).toBe("wait");
      expect(decideOverlap(policy, null, true, 1, MAX_WAITING * 2)).toBe("wait");
    }
  });

  test("start at once when nothing of the job is in flight", () => {
    expect(decideOverlap("forbid", null, true, 0, 0)).toBe("start");
  });
});

describe("across nodes", () => {
  const job = (overlap: JobExec["overlap"], maxConcurrency: number | null = null) => ({ overlap, maxConcurrency }) as JobExec;
  const run = (id: number, jobId: number, j: JobExec, catchUp = false) => ({ id, jobId, job: j, catchUp }) as Claimed;

  test("only forbid bounds a job across nodes; catch-up runs are bounded on their node instead", () => {
    expect(clusterLimit(run(1, 1, job("forbid")))).toBe(1);
    expect(clusterLimit(run(1, 1, job("forbid", 3)))).toBe(3);
    expect(clusterLimit(run(1, 1, job("forbid"), true))).toBeNull();
    for (const policy of ["allow", "replace", "queue"] as const) expect(clusterLimit(run(1, 1, job(policy)))).toBeNull();
  });

  test("each run's room is its limit less the job's runs here and those ahead of it in the batch", () => {
    const forbid2 = job("forbid", 2);
    const runs = [run(1, 7, forbid2), run(2, 7, forbid2), run(3, 8, job("allow")), run(4, 9, job("forbid"))];
    const activeHere = new Map([[7, 1]]);
    expect(clusterRooms(runs, true, (jobId) => activeHere.get(jobId) ?? 0)).toEqual([1, 0, null, 1]);
  });

  test("nothing is checked when no other node shares the database", () => {
    expect(clusterRooms([run(1, 1, job("forbid"))], false, () => 0)).toBeNull();
  });
});
