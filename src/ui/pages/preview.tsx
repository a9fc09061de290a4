/** @jsxImportSource hono/jsx */
// The schedule preview: a spec, a time zone and a count in, the next fire times out, each in UTC and in the
// zone, with a note where daylight saving time moved a fire or made its wall-clock time happen twice.
import type { FC } from "hono/jsx";
import type { PreviewItem, PreviewNote } from "../../schedule/preview.ts";
import { type Frame, Layout } from "../layout.tsx";

export interface PreviewData {
  spec: string;
  timezone: string;
  count: number;
  items: PreviewItem[] | null;
  error: { field: string; message: string } | null;
}

const NOTES: Record<PreviewNote, string> = {
  "dst-gap": "DST gap: this wall-clock time does not exist that day (clocks spring forward), so it fires at the first instant after the gap",
  "dst-overlap": "DST overlap: this wall-clock time happens twice that day (clocks fall back); this is the fire tock makes",
};

export const PreviewPage: FC<{ frame: Frame; data: PreviewData }> = ({ frame, data }) => (
  <Layout frame={frame} title="Schedule preview" here="preview">
    <h1>Schedule preview</h1>
    <form class="inline" method="get" action="/ui/preview">
      <label>
        Schedule
        <input name="spec" value={data.spec} placeholder="30 2 * * *" size={28} required aria-invalid={data.error?.field === "spec" ? "true" : undefined} />
      </label>
      <label>
        Time zone
        <input name="timezone" value={data.timezone} placeholder="America/New_York" size={22} aria-invalid={data.error?.field === "timezone" ? "true" : undefined} />
      </label>
      <label>
        Count
        <input name="count" type="number" min="1" max="1000" value={String(data.count)} size={5} />
      </label>
      <button type="submit">Preview</button>
    </form>
    <p class="muted">A cron expression (5 or 6 fields), @every 90s, @daily, or an ISO 8601 repeating interval (R5/2027-01-01T09:00:00Z/P1D).</p>
    {data.error && (
      <p class="flash error" role="alert" id="preview-error">
        {data.error.field}: {data.error.message}
      </p>
    )}
    {data.items && (
      <table id="preview">
        <thead>
          <tr>
            <th>#</th>
            <th>UTC</th>
            <th>Local ({data.timezone})</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {data.items.map((item, i) => (
            <tr class={item.note ? "noted" : undefined}>
              <td class="num">{i + 1}</td>
              <td class="mono">{item.at}</td>
              <td class="mono">{item.local}</td>
              <td class="note">{item.note ? NOTES[item.note] : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    {data.items && data.items.length === 0 && <p class="muted">This schedule fires no more.</p>}
  </Layout>
);
