/** @jsxImportSource hono/jsx */
// The jobs page: every job the key may see, by namespace, with its schedule, next fire and last run.
import type { FC } from "hono/jsx";
import type { JobView, RunView } from "../../domain/views.ts";
import { relative, scheduleText, targetSummary } from "../format.ts";
import { Badge, type Frame, jobPath, Layout, NamespaceFilter, Pager, When } from "../layout.tsx";

export interface JobRow {
  job: JobView;
  last: RunView | null;
}

export interface JobsData {
  namespaces: string[];
  namespace?: string;
  rows: JobRow[];
  nextCursor: string | null;
}

export const JobsPage: FC<{ frame: Frame; data: JobsData }> = ({ frame, data }) => (
  <Layout frame={frame} title="Jobs" here="jobs">
    <h1>Jobs</h1>
    <NamespaceFilter action="/ui" namespaces={data.namespaces} current={data.namespace} />
    {data.rows.length === 0 ? (
      <p class="card muted">No jobs{data.namespace ? ` in namespace ${data.namespace}` : ""}.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>Namespace</th>
            <th>Job</th>
            <th>Schedule</th>
            <th>Status</th>
            <th>Next fire</th>
            <th>Last result</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {data.rows.map(({ job, last }) => (
            <tr>
              <td>
                <a href={`/ui?namespace=${encodeURIComponent(job.namespace)}`}>{job.namespace}</a>
              </td>
              <td>
                <a href={jobPath(job.namespace, job.name)}>{job.name}</a>
              </td>
              <td class="mono">{scheduleText(job)}</td>
              <td>
                <Badge status={job.status} />
              </td>
              <td>
                <When at={job.nextFireAt} now={frame.now} />
              </td>
              <td>
                {last ? (
                  <span>
                    <a href={`/ui/runs/${last.id}`}>
                      <Badge status={last.status} />
                    </a>
                    <span class="rel">{last.endedAt ? relative(last.endedAt, frame.now) : `#${last.id}`}</span>
                  </span>
                ) : (
                  <span class="muted">never run</span>
                )}
              </td>
              <td class="mono muted">{targetSummary(job.target)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <Pager base="/ui" query={{ namespace: data.namespace }} cursor={data.nextCursor} />
  </Layout>
);

