// `tock jobs import FILE`: the jobs of an export file put on a server. A job already there as the file has
// it is left alone (so a second import changes nothing: no new version, no fired count reset); the others
// are PUT, a few at a time. A job that fails is reported by name and the rest go on.
import { CliError, EXIT, intFlag, usageError } from "./args.ts";
import type { Client } from "./client.ts";
import { type Ctx, parseJson, printJson, readInput } from "./context.ts";
import { allJobs, type Job } from "./jobs.ts";
import { progress } from "./progress.ts";

/** Jobs per batch request (a server takes up to 10,000). */
const BATCH = 1000;

/** What a GET of a job adds that a PUT does not take (the server ignores them too). */
const SERVER_SET = new Set(["id", "scheduleKind", "status", "compat", "nextFireAt", "firedCount", "version", "createdAt", "updatedAt", "waiting"]);

interface Entry {
  item: number;
  namespace: string;
  name: string;
  body: Record<string, unknown>;
}

interface Failure {
  /** Its place in the file (0 first). */
  item: number;
  namespace: string | null;
  name: string | null;
  error: string;
}

/** The jobs of a file: an array (what export writes), a list page ({items}), or one job. */
function entriesOf(data: unknown, from: string, into: string | undefined): { entries: Entry[]; failures: Failure[]; items: number } {
  const list = Array.isArray(data) ? data : isObject(data) && Array.isArray(data.items) ? data.items : isObject(data) && typeof data.name === "string" ? [data] : null;
  if (!list) throw usageError(`${from} holds no jobs: expected what tock jobs export writes (a JSON array of jobs)`);
  const entries: Entry[] = [];
  const failures: Failure[] = [];
  /** Where each job goes, by "ns/name", to the item that goes there first. */
  const taken = new Map<string, { item: number; from: unknown }>();
  list.forEach((job, i) => {
    if (!isObject(job) || typeof job.name !== "string" || (typeof job.namespace !== "string" && into === undefined)) {
      const name = isObject(job) && typeof job.name === "string" ? job.name : null;
      failures.push({ item: i, namespace: null, name, error: `item ${i} of ${from} is not a job with a namespace and a name` });
      return;
    }
    const namespace = into ?? (job.namespace as string);
    // Two items for one job (the same job twice, or --namespace folding namespaces together): the first
    // is put, the others are failures, never one silently replacing another.
    const first = taken.get(`${namespace}/${job.name}`);
    if (first !== undefined) {
      const was = first.from !== job.namespace ? ` (from ${String(job.namespace)}, item ${first.item} from ${String(first.from)})` : "";
      failures.push({ item: i, namespace, name: job.name, error: `item ${i} is ${namespace}/${job.name} again, like item ${first.item}${was}: only the first is put` });
      return;
    }
    taken.set(`${namespace}/${job.name}`, { item: i, from: job.namespace });
    entries.push({ item: i, namespace, name: job.name, body: { ...job, namespace } });
  });
  return { entries, failures, items: list.length };
}

const label = (f: Failure) => (f.namespace !== null ? `${f.namespace}/${f.name}` : `item ${f.item}`);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A job's fields that a PUT takes, in a canonical form: two jobs are the same job when these are equal. */
function canonical(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v, false));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = value[k];
    if (v === null || v === undefined || (top && (SERVER_SET.has(k) || k === "namespace" || k === "name"))) continue;
    out[k] = canonical(v, false);
  }
  return out;
}

export const sameJob = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/** The jobs already on the server in these namespaces, by "ns/name" (a namespace the key may not read counts as empty). */
async function existing(client: Client, namespaces: string[]): Promise<Map<string, Job>> {
  const map = new Map<string, Job>();
  for (const ns of namespaces) {
    let jobs: Job[];
    try {
      jobs = await allJobs(client, [ns]);
    } catch (e) {
      if (e instanceof CliError && e.exitCode === EXIT.notFound) continue;
      throw e;
    }
    for (const j of jobs) map.set(`${j.namespace}/${j.name}`, j);
  }
  return map;
}

export async function importJobs(ctx: Ctx): Promise<number> {
  const file = ctx.args[0];
  const into = typeof ctx.flags.namespace === "string" ? ctx.flags.namespace : undefined;
  const concurrency = intFlag(ctx.flags, "concurrency", 8, 1, 64);
  const from = file === "-" ? "stdin" : file;
  const { entries, failures, items } = entriesOf(parseJson(await readInput(file), from), from, into);
  const client = ctx.client();
  const before = await existing(client, [...new Set(entries.map((e) => e.namespace))]);
  const counts = { created: 0, updated: 0, unchanged: 0 };
  const bar = progress(entries.length, (t) => void ctx.err(t), ctx.stderrTTY);
  let done = 0;
  let fatal: unknown = null;

  const tick = (n: number) => {
    done += n;
    bar.update(done, failures.length);
  };
  const stops = (err: unknown) => !(err instanceof CliError) || err.exitCode === EXIT.unreachable || err.exitCode === EXIT.interrupted || err.status === 401;
  const todo = entries.filter((e) => {
    const was = before.get(`${e.namespace}/${e.name}`);
    if (!was || !sameJob(was, e.body)) return true;
    counts.unchanged++;
    tick(1);
    return false;
  });

  // One job at a time, `concurrency` at once: for a server without batches.
  const one = async (e: Entry) => {
    try {
      const path = `/api/v1/namespaces/${encodeURIComponent(e.namespace)}/jobs/${encodeURIComponent(e.name)}`;
      const { status } = await client.json("PUT", path, { body: e.body });
      if (status === 201) counts.created++;
      else counts.updated++;
    } catch (err) {
      // Past an unreachable server or Ctrl-C every other job would fail the same way: stop.
      if (stops(err)) throw err;
      failures.push({ item: e.item, namespace: e.namespace, name: e.name, error: (err as CliError).message });
    }
    tick(1);
  };
  const singly = async (list: Entry[]) => {
    let next = 0;
    const worker = async () => {
      while (fatal === null && next < list.length) await one(list[next++]).catch((err) => void (fatal ??= err));
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  };

  // A namespace's jobs in batches of BATCH, each written whole or not at all: a refused job is named and
  // the rest of its batch sent again without it.
  let batches = true;
  const batch = async (list: Entry[]): Promise<void> => {
    if (list.length === 0) return;
    if (!batches) return singly(list);
    const ns = list[0].namespace;
    try {
      const { body } = await client.json<{ items: { created: boolean }[] }>("POST", `/api/v1/namespaces/${encodeURIComponent(ns)}/jobs:batch`, { body: { jobs: list.map((e) => e.body) } });
      for (const it of body.items) it.created ? counts.created++ : counts.updated++;
      return tick(list.length);
    } catch (err) {
      if (stops(err)) throw err;
      const e = err as CliError;
      // A server from before batches: one job at a time, from now on.
      if (e.status === 405 || (e.status === 404 && e.message.startsWith("no route"))) {
        batches = false;
        return singly(list);
      }
      if (e.status === 413 && list.length > 1) {
        const half = Math.ceil(list.length / 2);
        await batch(list.slice(0, half));
        return batch(list.slice(half));
      }
      if (e.items?.length) {
        const refused = new Set(e.items.map((i) => i.index));
        for (const i of e.items) failures.push({ item: list[i.index].item, namespace: ns, name: list[i.index].name, error: i.field && !i.message.includes(i.field) ? `${i.message} (${i.field})` : i.message });
        tick(refused.size);
        return batch(list.filter((_, i) => !refused.has(i)));
      }
      // Refused whole (the namespace's limit, a key that may not write there): each of its jobs failed so.
      for (const x of list) failures.push({ item: x.item, namespace: x.namespace, name: x.name, error: e.message });
      tick(list.length);
    }
  };
  const byNamespace = Map.groupBy(todo, (e) => e.namespace);
  try {
    for (const list of byNamespace.values()) for (let i = 0; i < list.length && fatal === null; i += BATCH) await batch(list.slice(i, i + BATCH));
  } catch (err) {
    fatal ??= err;
  }
  bar.clear();
  const tally = `${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${failures.length} failed`;
  if (fatal !== null) {
    // What was done before it stopped is said too: a second run puts only the rest.
    if (fatal instanceof CliError && fatal.exitCode !== EXIT.interrupted) fatal = new CliError(`${fatal.message}; import stopped: of ${entries.length} jobs, ${tally}`, fatal.exitCode, fatal.status);
    throw fatal;
  }

  failures.sort((a, b) => a.item - b.item);
  if (ctx.json) await printJson(ctx, { ...counts, failed: failures });
  else {
    for (const f of failures) await ctx.err(`tock: ${f.namespace !== null ? `${label(f)}: ` : ""}${f.error}\n`);
    await ctx.out(`${items} job${items === 1 ? "" : "s"}: ${tally}\n`);
  }
  if (failures.length === 0) return EXIT.ok;
  if (!ctx.json) await ctx.err(`tock: ${failures.length} job${failures.length === 1 ? "" : "s"} not imported: ${failures.slice(0, 5).map(label).join(", ")}${failures.length > 5 ? ", …" : ""}\n`);
  return EXIT.failed;
}
