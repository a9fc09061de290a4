/** @jsxImportSource hono/jsx */
// A job's page: what it is, its buttons (pause or resume, trigger) and its recent runs.
import type { FC } from "hono/jsx";
import type { JobView, RunView } from "../../domain/views.ts";
import { runTime, scheduleText, targetSummary } from "../format.ts";
import { Badge, Csrf, type Frame, jobPath, Layout, Pager, When } from "../layout.tsx";

export interface JobData {
  job: JobView & { waiting?: string };
  runs: RunView[];
  nextCursor: string | null;
}

export const JobPage: FC<{ frame: Frame; data: JobData }> = ({ frame, data: { job, runs, nextCursor } }) => {
  const path = jobPath(job.namespace, job.name);
  const writer = frame.access !== null && frame.access.role !== "reader";
  return (
    <Layout frame={frame} title={`${job.namespace}/${job.name}`} here="jobs">
      <h1>
        <a href={`/ui?namespace=${encodeURIComponent(job.namespace)}`}>{job.namespace}</a> / {job.name} <Badge status={job.status} id="job-status" />
      </h1>
      {writer ? (
        <div class="actions">
          {job.enabled ? (
            <form method="post" action={`${path}/pause`}>
              <Csrf token={frame.csrf} />
              <button type="submit" class="secondary">
                Pause
              </button>
            </form>
          ) : (
            <form method="post" action={`${path}/resume`}>
              <Csrf token={frame.csrf} />
              <button type="submit" class="secondary">
                Resume
              </button>
            </form>
          )}
          <form method="post" action={`${path}/trigger`}>
            <Csrf token={frame.csrf} />
            <button type="submit">Trigger now</button>
          </form>
        </div>
      ) : (
        <p class="muted">This key may read only: pausing, resuming and triggering need a writer key.</p>
      )}
      {job.waiting && <p class="note">Waiting: {job.waiting}</p>}
      <div class="card">
        <dl class="facts">
          <dt>Schedule</dt>
          <dd class="mono">
            {scheduleText(job)} <span class="muted">({job.scheduleKind})</span>
          </dd>
          <dt>Next fire</dt>
          <dd>
            <When at={job.nextFireAt} now={frame.now} />
          </dd>
          <dt>Target</dt>
          <dd class="mono">
            {Object.keys(job.target)[0]}: {targetSummary(job.target)}
          </dd>
          <dt>Policies</dt>
          <dd>
            timeout {job.timeout ?? "none"} · overlap {job.overlap}
            {job.maxConcurrency ? ` (at most ${job.maxConcurrency})` : ""} · misfire {job.misfire} · retry{" "}
            {job.retry ? `${job.retry.times} times, ${job.retry.backoff} from ${job.retry.interval}` : "none"}
            {job.broadcast ? " · broadcast" : ""}
          </dd>
          {(job.startAt || job.endAt || job.repeats !== null) && (
            <>
              <dt>Bounds</dt>
              <dd>
                {job.startAt ? `from ${job.startAt} ` : ""}
                {job.endAt ? `until ${job.endAt} ` : ""}
                {job.repeats !== null ? `${job.repeats} times` : ""}
              </dd>
            </>
          )}
          <dt>Fired</dt>
          <dd>{job.firedCount} times</dd>
          {Object.keys(job.labels).length > 0 && (
            <>
              <dt>Labels</dt>
              <dd class="mono">
                {Object.entries(job.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(", ")}
              </dd>
            </>
          )}
          {job.memo && (
            <>
              <dt>Memo</dt>
              <dd>{job.memo}</dd>
            </>
          )}
          <dt>Version</dt>
          <dd>
            {job.version} · updated <When at={job.updatedAt} now={frame.now} />
          </dd>
        </dl>
        <details>
          <summary>Definition (JSON)</summary>
          <pre>{JSON.stringify({ target: job.target, payload: job.payload, retry: job.retry, compat: job.compat }, null, 2)}</pre>
        </details>
      </div>
      <h2>Runs</h2>
      <RunTable runs={runs} now={frame.now} showJob={false} />
      <Pager base={path} query={{}} cursor={nextCursor} />
    </Layout>
  );
};

/** A table of runs, newest first; `showJob` adds the job's column (lists across jobs). */
export const RunTable: FC<{ runs: RunView[]; now: number; showJob: boolean }> = ({ runs, now, showJob }) =>
  runs.length === 0 ? (
    <p class="card muted">No runs.</p>
  ) : (
    <table>
      <thead>
        <tr>
          <th>Run</th>
          {showJob && <th>Job</th>}
          <th>Slot</th>
          <th>Status</th>
          <th>Trigger</th>
          <th>Took</th>
          <th>Node</th>
          <th>Error</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr>
            <td>
              <a href={`/ui/runs/${r.id}`}>#{r.id}</a>
              {r.attempt > 1 && <span class="rel">attempt {r.attempt}</span>}
            </td>
            {showJob && (
              <td>
                <a href={jobPath(r.namespace, r.jobName)}>
                  {r.namespace}/{r.jobName}
                </a>
              </td>
            )}
            <td>
              <When at={r.scheduledAt} now={now} />
            </td>
            <td>
              <Badge status={r.status} />
            </td>
            <td>{r.trigger}</td>
            <td class="num">{runTime(r, now)}</td>
            <td class="mono">{r.node ?? r.forNode ?? ""}</td>
            <td class="error-text">{r.error ? r.error.slice(0, 160) : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
