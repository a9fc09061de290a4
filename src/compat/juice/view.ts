// Tasks in Juice's shapes: the envelope, a task of the batch query, a kill's answer, and the task status
// integers and names (TaskResult.Result). Dates are Java's, as Juice writes them.
import type { RUN_STATUSES } from "../../domain/runs.ts";
import type { JobView, RunView } from "../../domain/views.ts";

/** Juice's success envelope. */
export const ok = (data: unknown) => ({ status: 0, message: "OK", data });

const two = (n: number) => String(n).padStart(2, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Java's DateFormat MEDIUM in en_US, in UTC, as Juice writes: "Dec 8, 2016 4:03:08 PM". */
export function javaMediumDate(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${h < 12 ? "AM" : "PM"}`;
}

/** Juice's TaskResult.Result: the integer of the API and the name its callbacks carry. */
type TaskStatus = readonly [number, string];
const STATUS: Record<(typeof RUN_STATUSES)[number], TaskStatus> = {
  queued: [-1, "NOT_START"],
  running: [1, "RUNNING"],
  succeeded: [2, "FINISHED"],
  failed: [3, "FAILED"],
  timed_out: [3, "FAILED"],
  lost: [4, "LOST"],
  killed: [6, "KILLED"],
  skipped: [8, "DROPPED"],
};
export const statusOf = (run: RunView | null): TaskStatus => (run ? (STATUS[run.status as keyof typeof STATUS] ?? [11, "UNKNOWN"]) : STATUS.queued);

/** The Juice fields a job keeps, when Juice made it (a native PUT clears them). */
export function juiceFields(job: JobView): { taskName?: string; callbackUrl?: string } {
  return job.compat?.api === "juice" ? (job.compat as { taskName?: string; callbackUrl?: string }) : {};
}

/** What ran, as Juice reports it: a container's image, or the command line. */
function runnable(job: JobView): { dockerImage: string } | { commands: string } | Record<string, never> {
  const t = job.target as Record<string, Record<string, unknown> | undefined>;
  if (t.container) return { dockerImage: t.container.tag ? `${t.container.image}:${t.container.tag}` : String(t.container.image) };
  if (t.process) return { commands: typeof t.process.shell === "string" ? t.process.shell : (t.process.command as string[]).join(" ") };
  if (t.script) return { commands: String(t.script.content) };
  return {};
}

/** The task's message, in Mesos's words where it has them ("Container exited with status 0"). */
export function messageOf(job: JobView, run: RunView | null): string {
  if (!run || run.status === "queued") return "task is submit";
  if (run.status === "running") return "task is running";
  const exit = run.result?.exitCode;
  if ((run.status === "succeeded" || run.status === "failed") && typeof exit === "number") {
    return `${"container" in job.target ? "Container" : "Command"} exited with status ${exit}`;
  }
  if (run.status === "killed") return `task is killed${run.error ? ` (${run.error})` : ""}`;
  return run.error ?? `task ${run.status}`;
}

/** One item of the batch query (Juice's JuiceTask row), in the document's field order. */
export function taskItem(job: JobView, run: RunView | null) {
  const { taskName, callbackUrl } = juiceFields(job);
  const ended = run?.endedAt && run.status !== "queued" && run.status !== "running" ? Date.parse(run.endedAt) : null;
  return {
    taskId: job.id,
    taskName: taskName ?? job.name,
    tenantId: job.namespace,
    ...runnable(job),
    taskStatus: statusOf(run)[0],
    message: messageOf(job, run),
    // Juice stamps callback_at when it records the final status of a task with a callbackUrl, before it sends.
    callbackAt: callbackUrl && ended !== null ? javaMediumDate(ended) : null,
    callbackUrl: callbackUrl ?? null,
    submitAt: javaMediumDate(Date.parse(job.createdAt!)),
  };
}

/** A kill's answer: whether it was carried out, and the task's status and message now. */
export function killView(submitKill: boolean, job: JobView, run: RunView | null) {
  const currentStatus = statusOf(run)[0];
  const resultMessage = submitKill && run?.status === "killed" ? "task is killed" : run ? messageOf(job, run) : "task has not run; nothing to kill";
  return { submitKill, resultMessage, currentStatus };
}
