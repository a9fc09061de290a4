// `tock preview 'SPEC' [--tz ZONE] [-n 10]`: the next fire times of a schedule, computed here with the same
// code the server's /api/v1/schedule/preview runs (src/schedule): the answer is the same, and it needs no
// server, no key and no network, so a spec can be checked before any server exists (or in CI).
import { preview } from "../schedule/index.ts";
import { intFlag, usageError } from "./args.ts";
import { type Ctx, printJson } from "./context.ts";
import { relative, table } from "./table.ts";

const NOTES: Record<string, string> = {
  "dst-gap": "dst-gap: that local time does not exist (clocks go forward); fires just after the gap",
  "dst-overlap": "dst-overlap: that local time occurs twice (clocks go back)",
};

export async function previewCommand(ctx: Ctx) {
  const spec = ctx.args[0];
  const timezone = typeof ctx.flags.tz === "string" ? ctx.flags.tz : "UTC";
  const count = intFlag(ctx.flags, "count", 10, 1, 1000);
  const now = ctx.now();
  const result = preview(spec, timezone, count, now);
  if (!result.ok) throw usageError(`${result.error.field === "timezone" ? "--tz" : result.error.field === "count" ? "-n" : "spec"}: ${result.error.message}`);
  if (ctx.json) return printJson(ctx, { spec, timezone, items: result.items });
  if (result.items.length === 0) return ctx.err("the schedule fires no more\n");
  await ctx.out(
    table(
      [{ header: "#" }, { header: "UTC" }, { header: `LOCAL (${timezone})` }, { header: "WHEN" }, { header: "NOTE" }],
      result.items.map((it, i) => [i + 1, it.at, it.local, relative(it.at, now), it.note ? NOTES[it.note] : ""]),
    ),
  );
}
