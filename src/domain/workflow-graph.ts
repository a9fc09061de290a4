// Workflows as pure logic: refuses a graph of steps that cannot run, and decides which steps start or skip next.
import { invalid } from "./errors.ts";

/** On which of its parents' outcomes a step runs. */
export type When = "success" | "failure" | "always";

/** A step of a workflow: its id, the ids of its parent steps, and when it runs. */
export interface StepSpec {
  id: string;
  dependsOn: string[];
  when: When;
}

/** Where a step of an instance is; all but waiting and running are done. */
export type StepStatus = "waiting" | "running" | "succeeded" | "failed" | "skipped" | "cancelled";

/** What an instance does next. */
export interface Decision {
  /** Waiting steps whose parents are all done and whose condition holds: start them now. */
  start: string[];
  /** Waiting steps whose parents are all done and whose condition does not hold, each with why. */
  skip: { id: string; reason: string }[];
  /** Set when every step is done (after applying start/skip this is null if any step is started). */
  done: null | "succeeded" | "failed";
}

const MAX_STEPS = 100;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const WHENS: readonly unknown[] = ["success", "failure", "always"];
const DONE: ReadonlySet<StepStatus | undefined> = new Set<StepStatus>(["succeeded", "failed", "skipped", "cancelled"]);
const ENDED: Partial<Record<StepStatus, string>> = { failed: "failed", skipped: "was skipped", cancelled: "was cancelled" };

const quoted = (value: unknown) => String(JSON.stringify(value));

/**
 * Refuses a graph that cannot run: throws `invalid(message, field)` from ./errors.ts naming the step.
 * Checks, in this order, and throws the first problem: the count of steps, the ids (format, duplicates),
 * the dependsOn entries, the `when`s, cycles, then steps that no path from a root reaches.
 */
export function checkGraph(steps: StepSpec[]): void {
  checkCount(steps);
  checkIds(steps);
  checkParents(steps);
  checkWhens(steps);
  checkCycles(steps);
  checkReachable(steps);
}

/** The steps with no parents: they start when an instance starts. */
export function roots(steps: StepSpec[]): string[] {
  return steps.filter((step) => step.dependsOn.length === 0).map((step) => step.id);
}

/**
 * What to do next, given each step's status (every step id present in `states`). Skipping cascades: a step
 * skipped by this decision is done for its children, so one call settles every step whose fate is known.
 * A cancelled step counts as skipped, for its children's conditions and for the outcome: the caller handles
 * the cancellation of an instance itself and never asks for a decision about a cancelled instance.
 */
export function decide(steps: StepSpec[], states: ReadonlyMap<string, StepStatus>): Decision {
  const status = new Map(steps.map((step) => [step.id, statusOf(states, step.id)]));
  const started = new Set<string>();
  const skipped = new Map<string, string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const step of steps.filter((candidate) => isReady(candidate, status))) {
      const reason = skipReason(step, status);
      if (reason === undefined) started.add(step.id);
      else skipped.set(step.id, reason);
      status.set(step.id, reason === undefined ? "running" : "skipped");
      changed ||= reason !== undefined;
    }
  }
  return {
    start: steps.filter((step) => started.has(step.id)).map((step) => step.id),
    skip: steps.filter((step) => skipped.has(step.id)).map((step) => ({ id: step.id, reason: skipped.get(step.id) ?? "" })),
    done: outcome(steps, status),
  };
}

function checkCount(steps: StepSpec[]): void {
  if (steps.length < 1 || steps.length > MAX_STEPS) throw invalid(`a workflow has 1 to ${MAX_STEPS} steps, not ${steps.length}`, "steps");
}

function checkIds(steps: StepSpec[]): void {
  const firstIndex = new Map<string, number>();
  steps.forEach((step, index) => {
    const field = `steps[${index}].id`;
    if (typeof step.id !== "string" || !ID_PATTERN.test(step.id)) {
      throw invalid(`step ${quoted(step.id)}: an id is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`, field);
    }
    const first = firstIndex.get(step.id);
    if (first !== undefined) throw invalid(`step ${quoted(step.id)} at steps[${index}] repeats the id of steps[${first}]`, field);
    firstIndex.set(step.id, index);
  });
}

function checkParents(steps: StepSpec[]): void {
  const ids = new Set(steps.map((step) => step.id));
  steps.forEach((step, index) => {
    const seen = new Set<string>();
    step.dependsOn.forEach((parent, position) => {
      const field = `steps[${index}].dependsOn[${position}]`;
      const name = `step ${quoted(step.id)}`;
      if (parent === step.id) throw invalid(`${name} depends on itself`, field);
      if (!ids.has(parent)) throw invalid(`${name} depends on ${quoted(parent)}, which is not a step of this workflow`, field);
      if (seen.has(parent)) throw invalid(`${name} depends on ${quoted(parent)} twice`, field);
      seen.add(parent);
    });
  });
}

function checkWhens(steps: StepSpec[]): void {
  steps.forEach((step, index) => {
    const field = `steps[${index}].when`;
    if (!WHENS.includes(step.when)) {
      throw invalid(`step ${quoted(step.id)}: when is "success", "failure" or "always", not ${quoted(step.when)}`, field);
    }
    if (step.when === "failure" && step.dependsOn.length === 0) {
      throw invalid(`step ${quoted(step.id)} runs on failure but has no parents: nothing can fail before it`, field);
    }
  });
}

/** Walks up the dependsOn edges depth first; a step met again while still on the path closes a cycle. */
function checkCycles(steps: StepSpec[]): void {
  const indexOf = new Map(steps.map((step, index) => [step.id, index]));
  const state = steps.map((): "new" | "open" | "closed" => "new");
  const path: number[] = [];
  const visit = (index: number): number[] | undefined => {
    if (state[index] === "closed") return undefined;
    if (state[index] === "open") return path.slice(path.indexOf(index));
    state[index] = "open";
    path.push(index);
    for (const parent of steps[index].dependsOn) {
      const cycle = visit(indexOf.get(parent) ?? index);
      if (cycle) return cycle;
    }
    path.pop();
    state[index] = "closed";
    return undefined;
  };
  for (const index of steps.keys()) {
    const cycle = visit(index);
    if (cycle) throw cycleError(steps, cycle);
  }
}

/** `cycle` lists steps each depending on the next; the message lists them parent first, from the first listed. */
function cycleError(steps: StepSpec[], cycle: number[]) {
  const order = [...cycle].reverse();
  const first = order.indexOf(Math.min(...order));
  const rotated = [...order.slice(first), ...order.slice(0, first)];
  const names = [...rotated, rotated[0]].map((index) => quoted(steps[index].id)).join(" -> ");
  return invalid(`steps form a cycle: ${names}`, `steps[${rotated[0]}].dependsOn`);
}

function checkReachable(steps: StepSpec[]): void {
  const reached = new Set(roots(steps));
  const queue = [...reached];
  for (let next = 0; next < queue.length; next++) {
    const id = queue[next];
    for (const child of steps.filter((step) => step.dependsOn.includes(id) && !reached.has(step.id))) {
      reached.add(child.id);
      queue.push(child.id);
    }
  }
  const index = steps.findIndex((step) => !reached.has(step.id));
  if (index >= 0) throw invalid(`step ${quoted(steps[index].id)} is not reached from any step without parents`, `steps[${index}].dependsOn`);
}

function statusOf(states: ReadonlyMap<string, StepStatus>, id: string): StepStatus {
  const status = states.get(id);
  if (status === undefined) throw new Error(`no status given for step ${quoted(id)}`);
  return status;
}

function isReady(step: StepSpec, status: ReadonlyMap<string, StepStatus>): boolean {
  return status.get(step.id) === "waiting" && step.dependsOn.every((parent) => DONE.has(status.get(parent)));
}

/** Why a ready step does not run, or undefined when it runs. */
function skipReason(step: StepSpec, status: ReadonlyMap<string, StepStatus>): string | undefined {
  if (step.when === "always") return undefined;
  if (step.when === "failure") return step.dependsOn.some((parent) => status.get(parent) === "failed") ? undefined : "no parent failed";
  const unhappy = step.dependsOn.find((parent) => status.get(parent) !== "succeeded");
  if (unhappy === undefined) return undefined;
  return `parent ${quoted(unhappy)} ${ENDED[status.get(unhappy) ?? "failed"] ?? "did not succeed"}`;
}

/** Null while a step is not done; then failed when some failed step has no failure handler among its children. */
function outcome(steps: StepSpec[], status: ReadonlyMap<string, StepStatus>): Decision["done"] {
  if (steps.some((step) => !DONE.has(status.get(step.id)))) return null;
  const handled = new Set(steps.filter((step) => step.when === "failure").flatMap((step) => step.dependsOn));
  return steps.some((step) => status.get(step.id) === "failed" && !handled.has(step.id)) ? "failed" : "succeeded";
}
