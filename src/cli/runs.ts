// `tock runs ls | get | kill | logs [--follow]`, over the native API.
import { CliError, EXIT, intFlag, jobRef, runRef, usageError } from "./args.ts";
import type { Client } from "./client.ts";
import { type Ctx, printJson } from "./context.ts";
import { sseEvents } from "./sse.ts";
import { details, table, took, when } from "./table.ts";
import type { LogLine } from "../domain/logs.ts";
import type { RunView } from "../domain/views.ts";

const ENDED_WELL = "succeeded";

async function ls(ctx: Ctx) {
  const limit = intFlag(ctx.flags, "limit", 50, 1, 1_000_000);
  const status = typeof ctx.flags.status === "string" ? ctx.flags.status : undefined;
  const ns = typeof ctx.flags.namespace === "string" ? ctx.flags.namespace : undefined;
  let path = "/api/v1/runs";
  const query: Record<string, string | undefined> = { status, namespace: ns };
  if (typeof ctx.flags.job === "string") {
    const job = ctx.flags.job.includes("/") ? jobRef(ctx.flags.job) : ns ? { ns, name: ctx.flags.job } : null;
    if (!job) throw usageError("--job needs its namespace: --job NS/NAME, or --namespace NS --job NAME");
    path = `/api/v1/namespaces/${encodeURIComponent(job.ns)}/jobs/${encodeURIComponent(job.name)}/runs`;
    query.namespace = undefined;
  }
  const runs = await ctx.client().all<RunView>(path, query, limit);
  if (ctx.json) return printJson(ctx, { items: runs, nextCursor: null });
  if (runs.length === 0) return ctx.err("no runs\n");
  const now = ctx.now();
  await ctx.out(
    table(
      [{ header: "ID" }, { header: "JOB", max: 40 }, { header: "STATUS" }, { header: "TRIGGER" }, { header: "ATTEMPT" }, { header: "SCHEDULED" }, { header: "TOOK" }, { header: "NODE", max: 20 }, { header: "ERROR", max: 60 }],
      runs.map((r) => [r.id, `${r.namespace}/${r.jobName}`, r.status, r.trigger, r.attempt, when(r.scheduledAt, now), took(r.startedAt, r.endedAt), r.node ?? r.forNode, r.error]),
    ),
  );
}

function showRun(r: RunView, now: number): string {
  return details([
    ["run", r.id],
    ["job", `${r.namespace}/${r.jobName}`],
    ["status", r.status],
    ["waiting", r.waiting],
    ["trigger", r.trigger],
    ["attempt", r.attempt],
    ["scheduled", when(r.scheduledAt, now)],
    ["due", r.dueAt && r.dueAt !== r.scheduledAt ? when(r.dueAt, now) : null],
    ["started", r.startedAt ? when(r.startedAt, now) : null],
    ["ended", r.endedAt ? when(r.endedAt, now) : null],
    ["took", r.endedAt ? took(r.startedAt, r.endedAt) : null],
    ["node", r.node ?? r.nodeId],
    ["for node", r.forNode],
    ["kill asked", r.killRequestedAt ? when(r.killRequestedAt, now) : null],
    ["result", r.result ? JSON.stringify(r.result) : null],
    ["error", r.error],
    ["output", r.outputTail ? r.outputTail.replace(/\n$/, "") : null],
  ]);
}

async function get(ctx: Ctx) {
  const run = await ctx.client().get<RunView>(`/api/v1/runs/${runRef(ctx.args[0])}`);
  return ctx.json ? printJson(ctx, run) : ctx.out(showRun(run, ctx.now()));
}

async function kill(ctx: Ctx) {
  const id = runRef(ctx.args[0]);
  const { status, body: run } = await ctx.client().json<RunView>("POST", `/api/v1/runs/${id}/kill`);
  if (ctx.json) return printJson(ctx, run);
  return ctx.out(status === 200 ? `killed run ${id} (${run.namespace}/${run.jobName})\n` : `kill of run ${id} asked: its node is still stopping it (status ${run.status})\n`);
}

const shown = (l: LogLine) => (l.stream === "tock" ? `[tock] ${l.line}` : l.line);

async function logs(ctx: Ctx): Promise<number | void> {
  const id = runRef(ctx.args[0]);
  const stream = typeof ctx.flags.stream === "string" ? ctx.flags.stream : undefined;
  const client = ctx.client();
  if (ctx.flags.follow) return follow(ctx, client, id, stream);
  const items: LogLine[] = [];
  let cursor: string | undefined;
  let page: { runId: number; status: string; items: LogLine[]; nextCursor: string | null };
  do {
    page = await client.get(`/api/v1/runs/${id}/logs`, { stream, limit: 10_000, cursor });
    if (ctx.json) items.push(...page.items);
    else if (page.items.length) await ctx.out(`${page.items.map(shown).join("\n")}\n`);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (ctx.json) await printJson(ctx, { runId: page.runId, status: page.status, items, nextCursor: null });
}

/**
 * Prints the run's lines as they come until its end; the exit code is 0 if it succeeded, 1 if not. A
 * stream that breaks before the end (a server restarting) is taken up again after the last line seen.
 */
async function follow(ctx: Ctx, client: Client, id: string, stream: string | undefined): Promise<number> {
  let last: string | undefined;
  let failures = 0;
  for (;;) {
    const res = await client.send("GET", `/api/v1/runs/${id}/logs`, { query: { follow: 1, stream }, headers: { accept: "text/event-stream", ...(last ? { "last-event-id": last } : {}) }, stream: true });
    try {
      for await (const ev of sseEvents(res.body!)) {
        if (ev.event === "line") {
          const line = JSON.parse(ev.data) as LogLine;
          last = ev.id ?? String(line.seq);
          failures = 0;
          await ctx.out(ctx.json ? `${JSON.stringify(line)}\n` : `${shown(line)}\n`);
        } else if (ev.event === "end") {
          const { status } = JSON.parse(ev.data) as { status: string };
          if (ctx.json) await ctx.out(`${JSON.stringify({ runId: Number(id), status })}\n`);
          else if (status !== ENDED_WELL) await ctx.err(`tock: run ${id} ended ${status}\n`);
          return status === ENDED_WELL ? EXIT.ok : EXIT.failed;
        }
      }
    } catch (e) {
      if (ctx.signal.aborted) throw new CliError("interrupted", EXIT.interrupted);
      if (e instanceof CliError) throw e;
    }
    if (ctx.signal.aborted) throw new CliError("interrupted", EXIT.interrupted);
    if (++failures > 5) throw new CliError(`the log stream of run ${id} from ${client.base} keeps breaking off`, EXIT.unreachable);
    await new Promise((r) => setTimeout(r, 500 * failures));
  }
}

export async function runsCommand(sub: string, ctx: Ctx): Promise<number | void> {
  switch (sub) {
    case "ls":
      return ls(ctx);
    case "get":
      return get(ctx);
    case "kill":
      return kill(ctx);
    case "logs":
      return logs(ctx);
  }
  throw usageError(`unknown runs command: ${sub}`);
}
