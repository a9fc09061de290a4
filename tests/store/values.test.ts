// valuesTable: rows bound as a WITH clause's table, in statements of a few fixed sizes (padded with NULL
// rows): every row arrives once, in order, whatever the count, and the statements' texts are few.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../src/store/client.ts";
import { read, valuesTable } from "../../src/store/sql.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir();
const store = await openStore({ url: `file:${join(dir, "t.db")}` }, { migrate: false });
afterAll(() => {
  store.close();
  cleanup();
});

test("every row once, in order, for counts around each statement size; few distinct statements", async () => {
  const texts = new Set<string>();
  for (const n of [0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 257, 600, 1000]) {
    const rows = Array.from({ length: n }, (_, i) => [i, `r${i}`, i % 3 === 0 ? null : i / 2]);
    const stmts = valuesTable("v", ["a", "b", "c"], rows, "SELECT a, b, c, ? AS tag FROM v WHERE a IS NOT NULL", ["t"]);
    const got: unknown[][] = [];
    for (const st of stmts) {
      texts.add(typeof st === "string" ? st : st.sql);
      for (const r of await read(store, st)) got.push([r.a, r.b, r.c, r.tag]);
    }
    expect(got).toEqual(rows.map((r) => [...r, "t"]));
    expect(stmts.length).toBeLessThanOrEqual(Math.floor(n / 256) + 7);
  }
  expect(texts.size).toBe(3);
});
