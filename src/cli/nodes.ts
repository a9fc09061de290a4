// `tock nodes`: the nodes sharing the server's database, what they can run and how busy they are.
import { type Ctx, printJson } from "./context.ts";
import { relative, table, when } from "./table.ts";
import type { NodeView } from "../domain/nodes.ts";

export async function nodesCommand(ctx: Ctx) {
  const page = await ctx.client().get<{ items: NodeView[]; nextCursor: null }>("/api/v1/nodes");
  if (ctx.json) return printJson(ctx, page);
  const now = ctx.now();
  await ctx.out(
    table(
      [{ header: "NODE", max: 40 }, { header: "VERSION" }, { header: "STARTED" }, { header: "HEARTBEAT" }, { header: "RUNNING" }, { header: "EXECUTORS", max: 40 }, { header: "SCRIPTS", max: 40 }],
      page.items.map((n) => [n.id, n.version, when(n.startedAt, now), relative(n.heartbeatAt, now), n.running, n.executors.join(","), n.scriptLanguages.join(",")]),
    ),
  );
}
