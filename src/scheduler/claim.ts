// Claiming: which slots of due jobs to run (misfire policy), and the claimed runs as this node holds them,
// their jobs' secret values opened. The writes themselves, and what makes two nodes never claim one slot,
// are in store/claims.ts.
import { joinSecrets, openParams, type SecretBox } from "../domain/secrets.ts";
import { hostOfIp, normalName, parseIp, splitHostPort } from "../net/address.ts";
import { nextFire, type Plan } from "../schedule/index.ts";
import * as claims from "../store/claims.ts";
import type { ClaimJob, SlotClaim } from "../store/claims.ts";
import type { Store } from "../store/client.ts";
import { decideSlots } from "./misfire.ts";
import { jobSubject, notices, type NotifySettings, rulesOf } from "../domain/notify.ts";
import type { NotifyRule } from "../domain/schemas.ts";
import type { NewNotification } from "../store/notifications.ts";
import type { Claimed, JobExec } from "./types.ts";

/** The per-host key of an address literal or a host name (lower-cased, for the runner to resolve). */
function keyOf(host: string, port: number): Pick<JobExec, "host" | "resolve"> {
  const ip = parseIp(host);
  if (ip) return { host: `${hostOfIp(ip)}:${port}` };
  const name = normalName(host);
  return { host: `${name}:${port}`, resolve: { name, port } };
}

export function hostOf(kind: string, target: { url?: string; addr?: string } | null): Pick<JobExec, "host" | "resolve"> {
  if (kind === "tcp") {
    const { host, port } = splitHostPort(String(target?.addr));
    return keyOf(host, port);
  }
  // Local processes share one "host", this machine: max_in_flight_per_host bounds them too.
  if (kind !== "http") return { host: "local" };
  try {
    const u = new URL(String(target?.url));
    const port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
    // A URL writes an IPv4 address canonically already (127.1 and 0x7f.1 are 127.0.0.1): no parsing on this path.
    if (/^[\d.]+$/.test(u.hostname)) return { host: `${u.hostname}:${port}` };
    return keyOf(u.hostname, port);
  } catch {
    return { host: String(target?.url) };
  }
}

/** What its runs execute, with the job's secret values in place (only jobs that have some pay for opening them). */
function jobExec(box: SecretBox, j: ClaimJob): JobExec {
  const job: JobExec = {
    ...hostOf(j.targetKind, j.target as { url?: string; addr?: string } | null),
    updatedAt: j.updatedAt,
    onEnd: j.onEnd,
    targetKind: j.targetKind,
    target: j.target,
    timeoutMs: j.timeoutMs,
    retry: j.retry,
    overlap: j.overlap,
    maxConcurrency: j.maxConcurrency,
    payload: j.payload,
    recurring: j.scheduleKind !== "once",
    broadcast: j.broadcast,
    notify: j.notify as JobExec["notify"],
  };
  if (j.secrets === null) return job;
  try {
    job.target = joinSecrets(job.targetKind, job.target, box.open(j.secrets));
  } catch (e) {
    job.unopened = `cannot open the job's secret values: ${e instanceof Error ? e.message : String(e)}`;
  }
  return job;
}

const planOf = (j: ClaimJob): Plan => ({
  kind: j.scheduleKind,
  schedule: j.schedule,
  timezone: j.timezone,
  dueAt: j.dueAt,
  anchorAt: j.anchorAt,
  startAt: j.startAt,
  endAt: j.endAt,
  repeats: j.repeats,
});

export interface ClaimOptions {
  /** Opens the sealed secret values of jobs and runs for their executors. */
  secrets: SecretBox;
  nodeId: string;
  now: number;
  horizon: number;
  leaseUntil: number;
  limit: number;
  misfireThreshold: number;
  misfireCap: number;
  /** What this node can run (executors' offers): it claims nothing else. */
  offers: readonly string[];
  /** Nodes that beat within this many ms are alive (a broadcast slot gets a run for each). */
  liveFor: number;
  /** [notify]: a job's missed slots may send a `misfire` notification. */
  notify?: NotifySettings;
}

/** Most slots of one @every job taken by one claim. */
const SLOTS_PER_CLAIM = 64;

/** The `misfire` notifications of a job whose missed slots are not run. */
function misfireNotices(j: ClaimJob, error: string, config: NotifySettings, now: number): NewNotification[] {
  const rules = rulesOf(j.notify as NotifyRule[] | null, config.namespaces[j.namespace]);
  const document = (event: string) => ({ event, namespace: j.namespace, job: j.name, run: null, status: "skipped", error, at: new Date(now).toISOString() });
  return notices(rules, ["misfire"], document, { namespace: j.namespace, subject: jobSubject(j.id), runId: null, fence: null, instanceId: null });
}

/**
 * Claims the next slots of up to `limit` jobs due by `horizon` and returns the runs now held by this node,
 * and how many jobs were due (fewer than `limit`: none is left).
 */
export async function claimSlots(store: Store, o: ClaimOptions): Promise<{ claimed: Claimed[]; jobs: number; notified?: boolean }> {
  const due = await claims.dueJobs(store, o.horizon, o.limit, o.offers);
  if (due.length === 0) return { claimed: [], jobs: 0 };
  const c: SlotClaim = { nodeId: o.nodeId, leaseUntil: o.leaseUntil, now: o.now, fire: [], broadcast: [], liveFor: o.liveFor, skipped: [], advance: [] };
  const byJob = new Map<number, { j: ClaimJob; job: JobExec; catchUp: boolean }>();
  for (const j of due) {
    const slot = j.nextFireAt!;
    const plan = planOf(j);
    const d = decideSlots(plan, slot, j.firedCount, o.now, j.misfire, o.misfireThreshold, o.misfireCap);
    const catchUp = d.fire.length > 1;
    // A short @every (a Dapr job's 500ms): its slots up to the horizon in this one claim, not one per claim.
    if (j.scheduleKind === "every" && d.fire.length === 1 && !j.broadcast) {
      while (d.next !== null && d.next <= o.horizon && d.fire.length < SLOTS_PER_CLAIM) {
        d.fire.push(d.next);
        d.next = nextFire(plan, d.next, j.firedCount + d.fire.length);
      }
    }
    c.advance.push([j.id, d.next, d.fire.length, j.version]);
    for (const at of d.fire) (j.broadcast ? c.broadcast : c.fire).push([j.id, at, j.version]);
    if (d.skipped > 0) {
      const error = `misfire: ${d.skipped}${d.more ? "+" : ""} missed slot(s) not run (policy ${j.misfire})`;
      c.skipped.push([j.id, slot, j.version, error]);
      const items = o.notify ? misfireNotices(j, error, o.notify, o.now) : [];
      if (items.length) (c.notices ??= []).push({ jobId: j.id, version: j.version, notices: { items, failed: [], succeeded: [] } });
    }
    byJob.set(j.id, { j, job: jobExec(o.secrets, j), catchUp });
  }
  const inserted = await claims.claimSlots(store, c);
  const claimed: Claimed[] = inserted.map((r) => {
    const { j, job, catchUp } = byJob.get(r.jobId)!;
    return {
      id: r.id,
      jobId: r.jobId,
      namespace: j.namespace,
      jobName: j.name,
      scheduledAt: r.scheduledAt,
      dueAt: r.scheduledAt,
      trigger: "schedule",
      attempt: 1,
      key: String(r.id),
      fence: 1,
      job,
      catchUp,
    };
  });
  return { notified: Boolean(c.notices?.length), claimed, jobs: due.length };
}

/**
 * Claims queued runs no node holds (triggers, far retries, runs released by a stopped node or whose holder's
 * lease lapsed); runs whose job is gone are deleted.
 */
export async function claimQueued(store: Store, o: ClaimOptions): Promise<Claimed[]> {
  const runs = await claims.claimQueued(store, o.nodeId, o.leaseUntil, o.horizon, o.limit, o.offers);
  if (runs.length === 0) return [];
  const jobs = await claims.jobsById(store, [...new Set(runs.map((r) => r.jobId))]);
  const byId = new Map(jobs.map((j) => [j.id, jobExec(o.secrets, j)]));
  const out: Claimed[] = [];
  const orphans: number[] = [];
  for (const r of runs) {
    const job = byId.get(r.jobId);
    if (!job) {
      orphans.push(r.id);
      continue;
    }
    const run: Claimed = {
      id: r.id,
      jobId: r.jobId,
      namespace: r.namespace,
      jobName: r.jobName,
      scheduledAt: r.scheduledAt,
      dueAt: r.dueAt,
      trigger: r.trigger,
      attempt: r.attempt,
      key: String(r.key ?? r.id),
      fence: r.fence,
      job,
    };
    if (r.instanceId) (run.instanceId = r.instanceId), (run.stepId = r.stepId);
    if (r.params != null) {
      try {
        run.params = openParams(o.secrets, r.params as Parameters<typeof openParams>[1]);
        const own = run.params;
        // A step that names a job runs it with the step's own timeout and retry, where the step gives them.
        if (own && (own.timeoutMs !== undefined || own.retry !== undefined)) run.job = { ...job, timeoutMs: own.timeoutMs ?? job.timeoutMs, retry: own.retry ?? job.retry };
      } catch (e) {
        run.job = { ...job, unopened: `cannot open the run's variables: ${e instanceof Error ? e.message : String(e)}` };
      }
    }
    out.push(run);
  }
  if (orphans.length) await claims.deleteOrphans(store, orphans);
  return out;
}
