/** @jsxImportSource hono/jsx */
// The nodes sharing this database (admin keys only), and this node's own view of itself.
import type { FC } from "hono/jsx";
import type { NodeView } from "../../domain/nodes.ts";
import { type Frame, Layout, When } from "../layout.tsx";

export interface NodesData {
  nodes: NodeView[];
  self: { id: string; scheduler: string; database: string; version: string };
}

export const NodesPage: FC<{ frame: Frame; data: NodesData }> = ({ frame, data }) => (
  <Layout frame={frame} title="Nodes" here="nodes">
    <h1>Nodes</h1>
    <p>
      This page was served by node <code>{data.self.id}</code> (version {data.self.version}): scheduler <b>{data.self.scheduler}</b>, database <b>{data.self.database}</b>.
    </p>
    <table>
      <thead>
        <tr>
          <th>Node</th>
          <th>Version</th>
          <th>Started</th>
          <th>Heartbeat</th>
          <th>Running</th>
          <th>Runs</th>
        </tr>
      </thead>
      <tbody>
        {data.nodes.map((n) => (
          <tr>
            <td class="mono">{n.id}</td>
            <td>{n.version}</td>
            <td>
              <When at={n.startedAt} now={frame.now} />
            </td>
            <td>
              <When at={n.heartbeatAt} now={frame.now} />
            </td>
            <td class="num">{n.running}</td>
            <td class="mono">
              {n.executors.join(", ")}
              {n.scriptLanguages.length > 0 ? ` (scripts: ${n.scriptLanguages.join(", ")})` : ""}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Layout>
);
