// The scheduler's in-memory structures, against plain models: the timer heap (ordered by due time, then
// id) and the groups of runs by job.
import { expect, test } from "bun:test";
import fc from "fast-check";
import { Groups } from "../../src/scheduler/groups.ts";
import { MinHeap } from "../../src/scheduler/heap.ts";

type Item = { due: number; id: number };
const less = (a: Item, b: Item) => a.due < b.due || (a.due === b.due && a.id < b.id);

test("the heap hands out items in (due, id) order whatever the order of pushes and pops", () => {
  // Each step pushes an item (few distinct due times: ties are the common case) or pops one.
  const step = fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 5 }) }), fc.constant({ pop: true as const }));
  fc.assert(
    fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
      const heap = new MinHeap<Item>(less);
      let model: Item[] = [];
      let id = 0;
      for (const s of steps) {
        if ("push" in s) {
          const item = { due: s.push, id: id++ };
          heap.push(item);
          model.push(item);
        } else {
          model.sort((a, b) => a.due - b.due || a.id - b.id);
          const want = model.shift();
          expect(heap.pop()).toBe(want);
        }
        expect(heap.size).toBe(model.length);
        model.sort((a, b) => a.due - b.due || a.id - b.id);
        expect(heap.peek()).toBe(model[0]);
      }
      const rest: Item[] = [];
      for (let x = heap.pop(); x; x = heap.pop()) rest.push(x);
      expect(rest).toEqual(model);
    }),
    { numRuns: 300 },
  );
});

test("groups keep each key's values in the order added, one copy each, and forget a key with none left", () => {
  const op = fc.record({ kind: fc.constantFrom("add", "delete", "take"), key: fc.integer({ min: 0, max: 3 }), value: fc.integer({ min: 0, max: 6 }) });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const groups = new Groups<number, number>();
      const model = new Map<number, number[]>();
      for (const o of ops) {
        const list = model.get(o.key) ?? [];
        if (o.kind === "add") {
          groups.add(o.key, o.value);
          if (!list.includes(o.value)) model.set(o.key, [...list, o.value]);
        } else if (o.kind === "delete") {
          expect(groups.delete(o.key, o.value)).toBe(list.includes(o.value));
          const left = list.filter((v) => v !== o.value);
          if (left.length) model.set(o.key, left);
          else model.delete(o.key);
        } else {
          expect(groups.take(o.key)).toEqual(list);
          model.delete(o.key);
        }
        for (let k = 0; k <= 3; k++) {
          expect(groups.of(k)).toEqual(model.get(k) ?? []);
          expect(groups.count(k)).toBe(model.get(k)?.length ?? 0);
        }
      }
    }),
    { numRuns: 300 },
  );
});
