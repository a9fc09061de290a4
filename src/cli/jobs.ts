// `tock jobs ls | get | put | rm | trigger | pause | resume | export`, over the native API.
import { jobRef, usageError } from "./args.ts";
import type { Client } from "./client.ts";
import { type Ctx, parseJson, printJson, readInput } from "./context.ts";
import { details, relative, table, when } from "./table.ts";

/** The fields of a job (as the API shows it) that the client reads; the rest passes through untouched. */
export interface Job {
  namespace: string;
  name: string;
  schedule: string | null;
  scheduleKind: string;
  timezone: string;
  status: string;
  enabled: boolean;
  target: Record<string, Record<string, unknown>>;
  nextFireAt: string | null;
  firedCount: number;
  version: number;
  [field: string]: unknown;
}

interface Run {
  id: number;
  status: string;
  dueAt: string | null;
  broadcastRuns?: { id: number; forNode: string }[];
}

const jobPath = (ns: string, name?: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/jobs${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;

/** The namespaces to read: the one given, else every one the key may see. */
export async function namespacesOf(client: Client, given: string | true | undefined): Promise<string[]> {
  if (typeof given === "string") return [given];
  const page = await client.get<{ items: { namespace: string }[] }>("/api/v1/namespaces");
  return page.items.map((n) => n.namespace).sort();
}

/** Every job of those namespaces, every page. */
export async function allJobs(client: Client, namespaces: string[]): Promise<Job[]> {
  const out: Job[] = [];
  for (const ns of namespaces) out.push(...(await client.all<Job>(jobPath(ns))));
  return out;
}

/** "POST https://x/hook", "tcp 10.0.0.5:7000", "process /bin/backup --full", "script python", "container alpine:3". */
export function targetSummary(target: Job["target"]): string {
  const [kind, t] = Object.entries(target ?? {})[0] ?? ["?", {}];
  switch (kind) {
    case "http":
      return `${String(t.method ?? "POST")} ${String(t.url)}`;
    case "tcp":
      return `tcp ${String(t.addr)}`;
    case "process":
      return `process ${Array.isArray(t.command) ? t.command.join(" ") : `sh: ${String(t.shell)}`}`;
    case "script":
      return `script ${String(t.language)}`;
    case "container":
      return `container ${String(t.image)}${t.tag ? `:${String(t.tag)}` : ""}`;
    default:
      return kind;
  }
}

const scheduleOf = (j: Job) => (j.schedule ? `${j.schedule}${j.timezone && j.timezone !== "UTC" && ["cron", "iso8601"].includes(j.scheduleKind) ? ` (${j.timezone})` : ""}` : j.scheduleKind);

async function ls(ctx: Ctx) {
  const client = ctx.client();
  const jobs = await allJobs(client, await namespacesOf(client, ctx.flags.namespace));
  if (ctx.json) return printJson(ctx, { items: jobs, nextCursor: null });
  if (jobs.length === 0) return ctx.err("no jobs\n");
  const now = ctx.now();
  await ctx.out(
    table(
      [{ header: "NAMESPACE", max: 24 }, { header: "NAME", max: 40 }, { header: "STATUS" }, { header: "SCHEDULE", max: 32 }, { header: "NEXT" }, { header: "TARGET", max: 48 }],
      jobs.map((j) => [j.namespace, j.name, j.status, scheduleOf(j), relative(j.nextFireAt, now), targetSummary(j.target)]),
    ),
  );
}

function showJob(j: Job, now: number): string {
  const policies = [j.timeout && `timeout ${j.timeout}`, j.retry && `retry ${JSON.stringify(j.retry)}`, `overlap ${j.overlap}`, j.maxConcurrency !== null && `max ${j.maxConcurrency} at once`, `misfire ${j.misfire}`, j.broadcast && "broadcast"];
  const labels = Object.entries((j.labels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`);
  return details([
    ["job", `${j.namespace}/${j.name}`],
    ["status", j.status],
    ["schedule", j.schedule ? `${j.schedule} (${j.scheduleKind}, ${j.timezone})` : j.scheduleKind],
    ["due", j.dueTime as string | null],
    ["repeats", j.repeats as number | null],
    ["window", j.startAt || j.endAt ? `${j.startAt ?? "…"} to ${j.endAt ?? "…"}` : null],
    ["ttl", j.ttl as string | null],
    ["next fire", when(j.nextFireAt, now)],
    ["fired", j.firedCount],
    ["target", targetSummary(j.target)],
    ["policies", policies.filter(Boolean).join(", ")],
    ["labels", labels.join(", ")],
    ["memo", j.memo as string | null],
    ["waiting", j.waiting as string | undefined],
    ["version", j.version],
    ["created", when(j.createdAt as string, now)],
    ["updated", when(j.updatedAt as string, now)],
  ]);
}

async function get(ctx: Ctx) {
  const { ns, name } = jobRef(ctx.args[0]);
  const job = await ctx.client().get<Job>(jobPath(ns, name));
  return ctx.json ? printJson(ctx, job) : ctx.out(showJob(job, ctx.now()));
}

async function put(ctx: Ctx) {
  const { ns, name } = jobRef(ctx.args[0]);
  const file = ctx.flags.file as string;
  const body = parseJson(await readInput(file), file === "-" ? "stdin" : file);
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw usageError(`${file} must hold one job (a JSON object)`);
  const { status, body: job } = await ctx.client().json<Job>("PUT", jobPath(ns, name), { body });
  if (ctx.json) return printJson(ctx, job);
  return ctx.out(`${status === 201 ? "created" : "updated"} ${ns}/${name} (version ${job.version}; ${job.status}${job.nextFireAt ? `, next fire ${relative(job.nextFireAt, ctx.now())}` : ""})\n`);
}

async function rm(ctx: Ctx) {
  const { ns, name } = jobRef(ctx.args[0]);
  await ctx.client().send("DELETE", jobPath(ns, name));
  return ctx.json ? printJson(ctx, { namespace: ns, name, deleted: true }) : ctx.out(`removed ${ns}/${name}\n`);
}

/** What --env and --arg give a triggered run: the API's trigger body, or none. */
function triggerInput(ctx: Ctx): { env?: Record<string, string>; args?: string[] } | undefined {
  const env: Record<string, string> = {};
  for (const pair of ctx.lists.env ?? []) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw usageError(`--env takes KEY=VALUE (got ${JSON.stringify(pair)})`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const args = ctx.lists.arg;
  if (Object.keys(env).length === 0 && !args) return undefined;
  return { ...(Object.keys(env).length ? { env } : {}), ...(args ? { args } : {}) };
}

async function trigger(ctx: Ctx) {
  const { ns, name } = jobRef(ctx.args[0]);
  const { body: run } = await ctx.client().json<Run>("POST", `${jobPath(ns, name)}/trigger`, { body: triggerInput(ctx) });
  if (ctx.json) return printJson(ctx, run);
  const fanned = run.broadcastRuns && run.broadcastRuns.length > 1 ? `runs ${run.broadcastRuns.map((r) => `${r.id} (${r.forNode})`).join(", ")}` : `run ${run.id}`;
  return ctx.out(`triggered ${ns}/${name}: ${fanned}, ${run.status}\n`);
}

async function pauseOrResume(ctx: Ctx, verb: "pause" | "resume") {
  const { ns, name } = jobRef(ctx.args[0]);
  const { body: job } = await ctx.client().json<Job>("POST", `${jobPath(ns, name)}/${verb}`);
  if (ctx.json) return printJson(ctx, job);
  const next = job.nextFireAt ? `; next fire ${when(job.nextFireAt, ctx.now())}` : "";
  return ctx.out(`${verb === "pause" ? "paused" : "resumed"} ${ns}/${name} (${job.status}${next})\n`);
}

/** Every job as GET shows it, as one JSON array: what `jobs import` (and PUT, job by job) takes back. */
async function exportJobs(ctx: Ctx) {
  const client = ctx.client();
  const jobs = await allJobs(client, await namespacesOf(client, ctx.flags.namespace));
  await printJson(ctx, jobs);
  await ctx.err(`exported ${jobs.length} job${jobs.length === 1 ? "" : "s"}\n`);
}

export async function jobsCommand(sub: string, ctx: Ctx): Promise<number | void> {
  switch (sub) {
    case "ls":
      return ls(ctx);
    case "get":
      return get(ctx);
    case "put":
      return put(ctx);
    case "rm":
      return rm(ctx);
    case "trigger":
      return trigger(ctx);
    case "pause":
    case "resume":
      return pauseOrResume(ctx, sub);
    case "export":
      return exportJobs(ctx);
  }
  throw usageError(`unknown jobs command: ${sub}`);
}
