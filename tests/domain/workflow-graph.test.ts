// Workflow graphs: which graphs are refused (and how), and what decide says at each turn of an instance.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { DomainError } from "../../src/domain/errors.ts";
import { type StepSpec, type StepStatus, type When, checkGraph, decide, roots } from "../../src/domain/workflow-graph.ts";

const step = (id: string, dependsOn: string[] = [], when: When = "success"): StepSpec => ({ id, dependsOn, when });

/** The statuses of an instance: each step as given, else waiting. */
const statuses = (steps: StepSpec[], given: Record<string, StepStatus> = {}) =>
  new Map<string, StepStatus>(steps.map((s) => [s.id, given[s.id] ?? "waiting"]));

/** The problem checkGraph throws for `steps` (failing the test when it accepts them). */
function refusal(steps: StepSpec[]): { code: string; field: string | undefined; message: string } {
  try {
    checkGraph(steps);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { code: error.code, field: error.field, message: error.message };
  }
  throw new Error("checkGraph accepted the graph");
}

// ---- checkGraph ----

test("a workflow has 1 to 100 steps", () => {
  expect(refusal([])).toMatchObject({ code: "invalid", field: "steps", message: "a workflow has 1 to 100 steps, not 0" });
  const many = Array.from({ length: 101 }, (_, i) => step(`s${i}`));
  expect(refusal(many)).toMatchObject({ field: "steps", message: "a workflow has 1 to 100 steps, not 101" });
  expect(() => checkGraph(many.slice(0, 100))).not.toThrow();
  expect(() => checkGraph([step("only")])).not.toThrow();
});

test("an id is 1-64 letters, digits, '.', '_', '-', starting with a letter or digit", () => {
  for (const good of ["a", "9", "Load.data_2-x", "x".repeat(64)]) expect(() => checkGraph([step("r"), step(good, ["r"])])).not.toThrow();
  for (const bad of ["", "-a", ".a", "_a", "a b", "a/b", "é", "x".repeat(65)]) {
    const problem = refusal([step("r"), step(bad, ["r"])]);
    expect(problem.field).toBe("steps[1].id");
    expect(problem.message).toStartWith(`step ${JSON.stringify(bad)}: an id is`);
  }
});

test("a repeated id is refused at its second occurrence, saying where it was first", () => {
  expect(refusal([step("a"), step("b"), step("a"), step("b")])).toEqual({
    code: "invalid",
    field: "steps[2].id",
    message: 'step "a" at steps[2] repeats the id of steps[0]',
  });
});

test("a dependsOn entry names another step of the workflow, once", () => {
  expect(refusal([step("extract2"), step("load", ["extract2", "extract"])])).toMatchObject({
    field: "steps[1].dependsOn[1]",
    message: 'step "load" depends on "extract", which is not a step of this workflow',
  });
  expect(refusal([step("a"), step("b", ["a", "b"])])).toMatchObject({ field: "steps[1].dependsOn[1]", message: 'step "b" depends on itself' });
  expect(refusal([step("a"), step("b"), step("c", ["a", "a", "b"])])).toMatchObject({
    field: "steps[2].dependsOn[1]",
    message: 'step "c" depends on "a" twice',
  });
});

test("when: failure needs a parent; success and always are fine on a root", () => {
  expect(() => checkGraph([step("a", [], "success"), step("b", [], "always"), step("c", ["a"], "failure")])).not.toThrow();
  expect(refusal([step("a"), step("b", [], "failure")])).toMatchObject({
    field: "steps[1].when",
    message: 'step "b" runs on failure but has no parents: nothing can fail before it',
  });
  const strange = { id: "a", dependsOn: [], when: "sometimes" } as unknown as StepSpec;
  expect(refusal([strange])).toMatchObject({ field: "steps[0].when", message: 'step "a": when is "success", "failure" or "always", not "sometimes"' });
});

test("a cycle is refused naming its steps parent first, from the first step listed", () => {
  // b depends on a, c on b, a on c: a -> b -> c -> a.
  expect(refusal([step("r"), step("a", ["r", "c"]), step("b", ["a"]), step("c", ["b"])])).toMatchObject({
    field: "steps[1].dependsOn",
    message: 'steps form a cycle: "a" -> "b" -> "c" -> "a"',
  });
  // The same cycle listed from c.
  expect(refusal([step("r"), step("c", ["b"]), step("a", ["r", "c"]), step("b", ["a"])])).toMatchObject({
    field: "steps[1].dependsOn",
    message: 'steps form a cycle: "c" -> "a" -> "b" -> "c"',
  });
  expect(refusal([step("x", ["y"]), step("y", ["x"])])).toMatchObject({ field: "steps[0].dependsOn", message: 'steps form a cycle: "x" -> "y" -> "x"' });
});

test("a step that depends on a cycle is refused for the cycle (which no root reaches either)", () => {
  expect(refusal([step("r"), step("z", ["x"]), step("x", ["y"]), step("y", ["x"])])).toMatchObject({
    field: "steps[2].dependsOn",
    message: 'steps form a cycle: "x" -> "y" -> "x"',
  });
});

test("checks run in order: count, ids, dependsOn, when, cycles; the first problem is thrown", () => {
  const badId = step("-bad", ["nowhere"], "failure");
  expect(refusal([step("x", ["x"]), badId]).field).toBe("steps[1].id");
  expect(refusal([step("a", [], "failure"), step("b", ["nowhere"])]).field).toBe("steps[1].dependsOn[0]");
  expect(refusal([step("a", ["b"]), step("b", ["a"]), step("c", [], "failure")]).field).toBe("steps[2].when");
});

// ---- roots ----

test("roots are the steps without parents, in order", () => {
  expect(roots([step("a"), step("b", ["a"]), step("c"), step("d", ["b", "c"], "always")])).toEqual(["a", "c"]);
});

// ---- decide ----

test("a diamond runs to success step by step", () => {
  const steps = [step("a"), step("b", ["a"]), step("c", ["a"]), step("d", ["b", "c"])];
  expect(() => checkGraph(steps)).not.toThrow();
  expect(decide(steps, statuses(steps))).toEqual({ start: ["a"], skip: [], done: null });
  expect(decide(steps, statuses(steps, { a: "running" }))).toEqual({ start: [], skip: [], done: null });
  expect(decide(steps, statuses(steps, { a: "succeeded" }))).toEqual({ start: ["b", "c"], skip: [], done: null });
  expect(decide(steps, statuses(steps, { a: "succeeded", b: "succeeded", c: "running" }))).toEqual({ start: [], skip: [], done: null });
  const beforeD = { a: "succeeded", b: "succeeded", c: "succeeded" } as const;
  expect(decide(steps, statuses(steps, beforeD))).toEqual({ start: ["d"], skip: [], done: null });
  expect(decide(steps, statuses(steps, { ...beforeD, d: "running" }))).toEqual({ start: [], skip: [], done: null });
  expect(decide(steps, statuses(steps, { ...beforeD, d: "succeeded" }))).toEqual({ start: [], skip: [], done: "succeeded" });
});

test("fan-out then fan-in: the join waits for every branch", () => {
  const branches = ["b1", "b2", "b3", "b4"];
  const steps = [step("split"), ...branches.map((id) => step(id, ["split"])), step("join", branches)];
  expect(decide(steps, statuses(steps, { split: "succeeded" })).start).toEqual(branches);
  const three = { split: "succeeded", b1: "succeeded", b2: "succeeded", b3: "succeeded" } as const;
  expect(decide(steps, statuses(steps, { ...three, b4: "running" }))).toEqual({ start: [], skip: [], done: null });
  expect(decide(steps, statuses(steps, { ...three, b4: "succeeded" }))).toEqual({ start: ["join"], skip: [], done: null });
  expect(decide(steps, statuses(steps, { ...three, b4: "failed" }))).toEqual({
    start: [],
    skip: [{ id: "join", reason: 'parent "b4" failed' }],
    done: "failed",
  });
});

test("a failure branch: the handler starts, the success child is skipped, and a handled failure ends succeeded", () => {
  const steps = [step("a"), step("next", ["a"]), step("handler", ["a"], "failure")];
  expect(decide(steps, statuses(steps, { a: "failed" }))).toEqual({
    start: ["handler"],
    skip: [{ id: "next", reason: 'parent "a" failed' }],
    done: null,
  });
  expect(decide(steps, statuses(steps, { a: "failed", next: "skipped", handler: "succeeded" })).done).toBe("succeeded");
  // The handler failing, with no handler of its own, fails the instance.
  expect(decide(steps, statuses(steps, { a: "failed", next: "skipped", handler: "failed" })).done).toBe("failed");
  // Once a succeeded, the handler has nothing to handle.
  expect(decide(steps, statuses(steps, { a: "succeeded" }))).toEqual({ start: ["next"], skip: [{ id: "handler", reason: "no parent failed" }], done: null });
});

test("a handler of the handler handles its failure", () => {
  const steps = [step("a"), step("handler", ["a"], "failure"), step("last", ["handler"], "failure")];
  expect(decide(steps, statuses(steps, { a: "failed", handler: "failed" }))).toEqual({ start: ["last"], skip: [], done: null });
  expect(decide(steps, statuses(steps, { a: "failed", handler: "failed", last: "succeeded" })).done).toBe("succeeded");
});

test("always starts once its parents are done, whatever they did", () => {
  const steps = [step("a"), step("b", ["a"]), step("cleanup", ["a", "b"], "always")];
  expect(decide(steps, statuses(steps, { a: "running" })).start).toEqual([]);
  expect(decide(steps, statuses(steps, { a: "failed" }))).toEqual({
    start: ["cleanup"],
    skip: [{ id: "b", reason: 'parent "a" failed' }],
    done: null,
  });
  expect(decide(steps, statuses(steps, { a: "failed", b: "skipped", cleanup: "succeeded" })).done).toBe("failed");
  expect(decide([step("root", [], "always")], statuses([step("root", [], "always")])).start).toEqual(["root"]);
});

test("a skip cascades down a chain in one call, whatever order the steps are listed in", () => {
  const steps = [step("d", ["c"]), step("c", ["b"]), step("b", ["a"]), step("a"), step("tidy", ["d"], "always")];
  expect(decide(steps, statuses(steps, { a: "failed" }))).toEqual({
    start: ["tidy"],
    skip: [
      { id: "d", reason: 'parent "c" was skipped' },
      { id: "c", reason: 'parent "b" was skipped' },
      { id: "b", reason: 'parent "a" failed' },
    ],
    done: null,
  });
  // No step left to start: the instance ends in the same call.
  expect(decide(steps.slice(0, 4), statuses(steps, { a: "failed" })).done).toBe("failed");
});

test("a skip names the first parent, in dependsOn order, that did not succeed", () => {
  const steps = [step("p"), step("q"), step("r"), step("s", ["p", "q", "r"])];
  expect(decide(steps, statuses(steps, { p: "succeeded", q: "cancelled", r: "failed" })).skip).toEqual([{ id: "s", reason: 'parent "q" was cancelled' }]);
});

test("cancelled counts like skipped: not a failure of the instance", () => {
  const steps = [step("a"), step("b", ["a"], "failure")];
  expect(decide(steps, statuses(steps, { a: "cancelled" }))).toEqual({ start: [], skip: [{ id: "b", reason: "no parent failed" }], done: "succeeded" });
});

test("every step needs a status", () => {
  expect(() => decide([step("a"), step("b")], new Map([["a", "waiting"]]))).toThrow('no status given for step "b"');
});

// ---- property: a random instance runs to its end ----

/** A random DAG: s0..sN, each depending on a subset of earlier steps, each with an outcome if it runs. */
const workflows = fc.integer({ min: 1, max: 14 }).chain((count) =>
  fc.tuple(
    ...Array.from({ length: count }, (_, index) =>
      fc.record({
        parents: fc.subarray(Array.from({ length: index }, (_, parent) => `s${parent}`)),
        when: fc.constantFrom<When>("success", "failure", "always"),
        outcome: fc.constantFrom<StepStatus>("succeeded", "failed"),
        lag: fc.integer({ min: 0, max: 2 }),
      }),
    ),
  ),
);

test("property: an instance ends within N+1 decisions, each step started or skipped once, as its rule says", () => {
  fc.assert(
    fc.property(workflows, fc.boolean(), (drawn, shuffled) => {
      const specs = drawn.map((d, index) => step(`s${index}`, d.parents, d.parents.length === 0 && d.when === "failure" ? "success" : d.when));
      const steps = shuffled ? [...specs].reverse() : specs; // decide must not rely on a topological listing
      checkGraph(steps);
      const byId = new Map(specs.map((s, index) => [s.id, { spec: s, ...drawn[index] }]));
      const state = statuses(steps);
      const decided = new Map<string, number>();
      const lag = new Map<string, number>();
      let done: ReturnType<typeof decide>["done"] = null;
      let rounds = 0;
      while (done === null) {
        rounds++;
        expect(rounds).toBeLessThanOrEqual(steps.length + 1);
        const decision = decide(steps, state);
        if (rounds === 1) expect(decision.start.filter((id) => byId.get(id)?.parents.length === 0)).toEqual(roots(steps));
        for (const { id, reason } of decision.skip) {
          expect(state.get(id)).toBe("waiting");
          expect(reason.length).toBeGreaterThan(0);
          state.set(id, "skipped");
          decided.set(id, (decided.get(id) ?? 0) + 1);
        }
        for (const id of decision.start) {
          const { spec } = byId.get(id)!;
          const parents = spec.dependsOn.map((parent) => state.get(parent));
          expect(state.get(id)).toBe("waiting");
          expect(parents.every((s) => s === "succeeded" || s === "failed" || s === "skipped")).toBe(true);
          if (spec.when === "success") expect(parents.every((s) => s === "succeeded")).toBe(true);
          if (spec.when === "failure") expect(parents.includes("failed")).toBe(true);
          state.set(id, "running");
          lag.set(id, byId.get(id)!.lag);
          decided.set(id, (decided.get(id) ?? 0) + 1);
        }
        // One call settles all it can: asked again at once, decide has nothing new to say.
        const again = decide(steps, state);
        expect(again.start).toEqual([]);
        expect(again.skip).toEqual([]);
        done = decision.done;
        if (done !== null) break;
        // Some running steps end (at least one, else nothing would ever change).
        const running = steps.filter((s) => state.get(s.id) === "running").map((s) => s.id);
        expect(running.length).toBeGreaterThan(0);
        const ending = running.filter((id) => (lag.get(id) ?? 0) === 0);
        for (const id of ending.length > 0 ? ending : [running[0]]) state.set(id, byId.get(id)!.outcome);
        for (const id of running) lag.set(id, Math.max(0, (lag.get(id) ?? 0) - 1));
      }
      expect(steps.every((s) => decided.get(s.id) === 1)).toBe(true);
      const handled = new Set(specs.filter((s) => s.when === "failure").flatMap((s) => s.dependsOn));
      const unhandled = specs.some((s) => state.get(s.id) === "failed" && !handled.has(s.id));
      expect(done).toBe(unhandled ? "failed" : "succeeded");
    }),
    { numRuns: 500 },
  );
});
