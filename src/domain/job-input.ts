// What a job body becomes: the checks of its names, its validation and compiled schedule, and the fields
// of its row. Pure: no database, no clock but the `now` it is given.
import * as v from "valibot";
import { formatDuration, parseDuration } from "../schedule/duration.ts";
import { compilePlan, firstFire, type Plan } from "../schedule/index.ts";
import { egressPolicy } from "../net/egress.ts";
import type { JobFields, JobRow } from "../store/jobs.ts";
import type { DomainDeps } from "./deps.ts";
import { invalid } from "./errors.ts";
import { JobInput, Name, parseInput } from "./schemas.ts";
import type { SecretValues } from "./secrets.ts";
import { checkTarget, targetOf } from "./targets.ts";

export function checkName(value: string, field: "namespace" | "name"): string {
  const r = v.safeParse(Name, value);
  if (!r.success) throw invalid(`${field} ${r.issues[0].message}`, field);
  return value;
}

/** Validates a job body of namespace `ns` and compiles its schedule; throws `invalid` naming the field. */
export function compileJob(deps: DomainDeps, body: unknown, ns: string, minEveryMs = deps.config.scheduler.minEvery): { input: JobInput; plan: Plan } {
  const input = parseInput(JobInput, body);
  checkTarget(deps.config.executors, input.target, egressPolicy(deps.config.egress), ns);
  if (input.broadcast && (input.target.http || input.target.tcp)) {
    throw invalid("broadcast runs each slot on every node: it applies to process, script and container jobs, not to http or tcp callbacks", "broadcast");
  }
  const compiled = compilePlan(
    {
      schedule: input.schedule,
      dueTime: input.dueTime,
      timezone: input.timezone,
      repeats: input.repeats,
      ttl: input.ttl,
      startAt: input.startAt,
      endAt: input.endAt,
    },
    deps.clock.now(),
    { minEveryMs },
  );
  if (!compiled.ok) throw invalid(`${compiled.error.field}: ${compiled.error.message}`, compiled.error.field);
  // A retry may not come sooner than a schedule may fire: no job makes tock retry in a tight loop.
  const min = deps.config.scheduler.minEvery;
  for (const field of ["interval", "maxInterval"] as const) {
    const text = input.retry && input.retry.times > 0 ? input.retry[field] : undefined;
    if (text !== undefined && parseDuration(text)! < min) throw invalid(`retry.${field}: must be at least ${formatDuration(min)} (scheduler.min_every), got ${text}`, `retry.${field}`);
  }
  return { input, plan: compiled.plan };
}

export interface PutOptions {
  /** Only create: 409 if the job exists (HTTP If-None-Match: *). */
  createOnly?: boolean;
  /** Only replace this version: 409 if the stored version differs (HTTP If-Match). */
  ifVersion?: number;
  /** Kept with the job for the compat facade that made it (src/compat); a native put clears it. */
  compat?: Compat;
  /** A facade's own secret values (keys "compat.…"), sealed with the target's. */
  secrets?: SecretValues;
  /** Deliveries to make, durably, when a run of the job ends (a facade's completion callback). */
  onEnd?: string[];
  /** The workflow a step's job belongs to (jobs made by a workflow's PUT only). */
  workflowId?: number;
  /** The shortest @every a schedule may have, in place of [scheduler] min_every (a facade's own floor). */
  minEveryMs?: number;
}

/** A compat facade's own fields of a job: which API made it, and what it keeps that has no native field. */
export type Compat = { api: string } & Record<string, unknown>;

export function jobFields(ns: string, name: string, input: JobInput, plan: Plan, now: number, opts: PutOptions, target: unknown, secrets: string | null): JobFields {
  const { kind } = targetOf(input.target);
  return {
    namespace: ns,
    name,
    schedule: plan.schedule,
    scheduleKind: plan.kind,
    timezone: plan.timezone,
    dueTime: input.dueTime ?? null,
    ttl: input.ttl ?? null,
    dueAt: plan.dueAt,
    anchorAt: plan.anchorAt,
    startAt: plan.startAt,
    endAt: plan.endAt,
    repeats: plan.repeats,
    firedCount: 0,
    enabled: input.enabled,
    targetKind: kind,
    target,
    timeoutMs: input.timeout ? parseDuration(input.timeout) : null,
    retry: input.retry ?? null,
    overlap: input.overlap,
    maxConcurrency: input.maxConcurrency ?? null,
    broadcast: input.broadcast,
    misfire: input.misfire,
    payload: input.payload === undefined ? null : input.payload,
    memo: input.memo ?? null,
    labels: input.labels ?? null,
    compat: opts.compat ?? null,
    onEnd: opts.onEnd?.length ? opts.onEnd : null,
    secrets,
    createdAt: now,
    updatedAt: now,
    nextFireAt: input.enabled ? firstFire(plan, now) : null,
    workflowId: opts.workflowId ?? null,
    notify: input.notify?.length ? input.notify : null,
  };
}

/** The plan a job row was compiled to. */
export function planOf(r: Pick<JobRow, "scheduleKind" | "schedule" | "timezone" | "dueAt" | "anchorAt" | "startAt" | "endAt" | "repeats">): Plan {
  return { kind: r.scheduleKind, schedule: r.schedule, timezone: r.timezone, dueAt: r.dueAt, anchorAt: r.anchorAt, startAt: r.startAt, endAt: r.endAt, repeats: r.repeats };
}


/** What a GET of a job adds that a PUT does not take: set by the server. */
const SERVER_SET: ReadonlySet<string> = new Set(["id", "scheduleKind", "status", "compat", "nextFireAt", "firedCount", "version", "createdAt", "updatedAt", "waiting"]);

/**
 * A PUT body as the native API takes it, from what a GET of a job returned: the fields the server sets and
 * the null ones are left out, so an exported job can be put back unchanged (`namespace` and `name`, when
 * present, must be those of the path). Anything else is left for validation to judge.
 */
export function fromJobView(body: unknown, ns: string, name: string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(body)) {
    if (value === null || SERVER_SET.has(k)) continue;
    if (k === "namespace" || k === "name") {
      const expected = k === "namespace" ? ns : name;
      if (value !== expected) throw invalid(`${k} in the body is ${JSON.stringify(value)}, but the path says ${JSON.stringify(expected)}`, k);
      continue;
    }
    out[k] = value;
  }
  return out;
}
