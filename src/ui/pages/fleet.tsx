/** @jsxImportSource hono/jsx */
// Views across jobs: the runs that failed in the last 24 hours, and what fires next.
import type { FC } from "hono/jsx";
import type { RunView } from "../../domain/views.ts";
import { type Frame, jobPath, Layout, NamespaceFilter, Pager, When } from "../layout.tsx";
import { RunTable } from "./job.tsx";

export interface FailedData {
  namespaces: string[];
  namespace?: string;
  runs: RunView[];
  nextCursor: string | null;
}

export const FailedPage: FC<{ frame: Frame; data: FailedData }> = ({ frame, data }) => (
  <Layout frame={frame} title="Failed runs" here="failed">
    <h1>Failed runs of the last 24 hours</h1>
    <p class="muted">Runs that failed, timed out or were lost, newest slot first. Killed runs are not listed: they were stopped on purpose.</p>
    <NamespaceFilter action="/ui/failed" namespaces={data.namespaces} current={data.namespace} />
    <RunTable runs={data.runs} now={frame.now} showJob={true} />
    <Pager base="/ui/failed" query={{ namespace: data.namespace }} cursor={data.nextCursor} />
  </Layout>
);

export interface UpcomingData {
  namespaces: string[];
  namespace?: string;
  items: { namespace: string; name: string; at: string; runId: number | null }[];
  nextCursor: string | null;
}

export const UpcomingPage: FC<{ frame: Frame; data: UpcomingData }> = ({ frame, data }) => (
  <Layout frame={frame} title="Upcoming" here="upcoming">
    <h1>Upcoming fires</h1>
    <p class="muted">Jobs' next slots and runs already queued, soonest first.</p>
    <NamespaceFilter action="/ui/upcoming" namespaces={data.namespaces} current={data.namespace} />
    {data.items.length === 0 ? (
      <p class="card muted">Nothing is due.</p>
    ) : (
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>Job</th>
            <th>Queued run</th>
          </tr>
        </thead>
        <tbody>
          {data.items.map((u) => (
            <tr>
              <td>
                <When at={u.at} now={frame.now} />
              </td>
              <td>
                <a href={jobPath(u.namespace, u.name)}>
                  {u.namespace}/{u.name}
                </a>
              </td>
              <td>{u.runId ? <a href={`/ui/runs/${u.runId}`}>#{u.runId}</a> : <span class="muted">next slot</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <Pager base="/ui/upcoming" query={{ namespace: data.namespace }} cursor={data.nextCursor} />
  </Layout>
);
