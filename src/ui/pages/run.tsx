/** @jsxImportSource hono/jsx */
// A run's page: its status and timing, its error and result, its output (followed live while it runs, with
// script) and a kill button while it is queued or running.
import type { FC } from "hono/jsx";
import type { LogPage } from "../../domain/logs.ts";
import type { RunView } from "../../domain/views.ts";
import { runTime } from "../format.ts";
import { Badge, Csrf, type Frame, jobPath, Layout, When } from "../layout.tsx";

export interface RunData {
  run: RunView;
  logs: LogPage;
  /** The cursor this page of lines was read from, if not the first. */
  cursor?: string;
}

const ACTIVE = new Set(["queued", "running"]);

export const RunPage: FC<{ frame: Frame; data: RunData }> = ({ frame, data: { run, logs, cursor } }) => {
  const active = ACTIVE.has(run.status);
  const writer = frame.access !== null && frame.access.role !== "reader";
  const lastSeq = logs.items.length > 0 ? logs.items[logs.items.length - 1].seq : 0;
  // Live lines continue where this page stops, once it holds every line stored so far.
  const follow = active && logs.nextCursor === null ? `/ui/runs/${run.id}/events?after=${lastSeq}` : undefined;
  return (
    <Layout frame={frame} title={`Run #${run.id}`} here="jobs">
      <h1>
        Run #{run.id} of <a href={jobPath(run.namespace, run.jobName)}>{run.namespace}/{run.jobName}</a> <Badge status={run.status} id="run-status" />
      </h1>
      {active && writer && (
        <div class="actions" id="kill-form">
          <form method="post" action={`/ui/runs/${run.id}/kill`} data-confirm={`Kill run #${run.id}?`}>
            <Csrf token={frame.csrf} />
            <button type="submit" class="danger">
              Kill
            </button>
          </form>
        </div>
      )}
      {run.waiting && <p class="note">Waiting: {run.waiting}</p>}
      <div class="card">
        <dl class="facts">
          <dt>Trigger</dt>
          <dd>
            {run.trigger}, attempt {run.attempt}
          </dd>
          <dt>Slot</dt>
          <dd>
            <When at={run.scheduledAt} now={frame.now} />
          </dd>
          <dt>Due</dt>
          <dd>
            <When at={run.dueAt} now={frame.now} />
          </dd>
          <dt>Started</dt>
          <dd>
            <When at={run.startedAt} now={frame.now} />
          </dd>
          <dt>Ended</dt>
          <dd>
            <When at={run.endedAt} now={frame.now} />
          </dd>
          <dt>Took</dt>
          <dd>{runTime(run, frame.now)}</dd>
          <dt>Node</dt>
          <dd class="mono">{run.node ?? run.nodeId ?? "—"}</dd>
          {run.killRequestedAt && (
            <>
              <dt>Kill requested</dt>
              <dd>
                <When at={run.killRequestedAt} now={frame.now} />
              </dd>
            </>
          )}
          {run.error && (
            <>
              <dt>Error</dt>
              <dd class="error-text" id="run-error">
                {run.error}
              </dd>
            </>
          )}
          {run.result && (
            <>
              <dt>Result</dt>
              <dd>
                <pre>{JSON.stringify(run.result, null, 2)}</pre>
              </dd>
            </>
          )}
        </dl>
      </div>
      <h2>
        Output
        {follow ? (
          <span class="live" id="live">
            <a href={`/ui/runs/${run.id}`}>reload for new lines</a>
          </span>
        ) : null}
      </h2>
      <pre class="logs" id="logs" data-follow={follow}>
        {logs.items.length === 0 && (
          <span class="tock" id="no-logs">
            (no output{active ? " yet" : ""})
          </span>
        )}
        {logs.items.map((l) => (
          <div class={l.stream} data-seq={String(l.seq)}>
            <span class="at">{l.at.slice(11, 23)}</span>
            {l.line}
          </div>
        ))}
      </pre>
      {(cursor || logs.nextCursor) && (
        <p class="pager">
          {cursor && <a href={`/ui/runs/${run.id}`}>← First lines</a>} {logs.nextCursor && <a href={`/ui/runs/${run.id}?cursor=${encodeURIComponent(logs.nextCursor)}`}>Next lines →</a>}
        </p>
      )}
    </Layout>
  );
};
