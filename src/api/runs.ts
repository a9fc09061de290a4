// Single runs: the record, its output lines (paged, or followed live over server-sent events) and deletion.
import { type Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { RouteDeps } from "./deps.ts";
import { scoped } from "./auth.ts";
import { invalid } from "../domain/errors.ts";
import { decodeLogCursor, type LogLine, listLogs, openFollow, parseLogFilter } from "../domain/logs.ts";
import { killRun } from "../domain/kill.ts";
import { deleteRun, getRun } from "../domain/runs.ts";
import { intParam } from "./http.ts";

/** A comment line this often keeps proxies and clients from closing an idle stream. */
const KEEP_ALIVE_MS = 15_000;

function runId(c: Context): number {
  const raw = c.req.param("id") ?? "";
  if (!/^\d{1,15}$/.test(raw)) throw invalid("run id must be a positive integer", "id");
  return Number(raw);
}

function follows(c: Context): boolean {
  const raw = c.req.query("follow");
  if (raw === undefined || raw === "" || raw === "0" || raw === "false") return false;
  if (raw === "1" || raw === "true") return true;
  throw invalid("follow must be 1, true, 0 or false", "follow");
}

/** The seq to resume after: the EventSource's Last-Event-ID, else a cursor, else the start. */
function resumeAfter(c: Context): number {
  const header = c.req.header("last-event-id")?.trim();
  if (header && !/^\d{1,15}$/.test(header)) throw invalid("Last-Event-ID must be a line's seq (the id of its event)", "Last-Event-ID");
  const cursor = c.req.query("cursor");
  return Math.max(header ? Number(header) : 0, cursor ? decodeLogCursor(cursor) : 0);
}

export function runRoutes(deps: RouteDeps) {
  const app = new Hono();

  app.get("/runs/:id", async (c) => c.json(await getRun(scoped(c, deps), runId(c))));

  // 200 with the run once it has ended killed; 202 while its node is still stopping it (a process given its
  // kill grace, or a run on another node, which sees the request at its next poll).
  app.post("/runs/:id/kill", async (c) => {
    const { run, ended } = await killRun(scoped(c, deps), runId(c));
    return c.json(run, ended ? 200 : 202);
  });

  app.delete("/runs/:id", async (c) => {
    await deleteRun(scoped(c, deps), runId(c));
    return c.body(null, 204);
  });

  app.get("/runs/:id/logs", async (c) => {
    const id = runId(c);
    const filter = parseLogFilter({ since: c.req.query("since"), until: c.req.query("until"), stream: c.req.query("stream") });
    if (!follows(c)) {
      const limit = intParam(c, "limit", { min: 1, max: 10_000, def: 1000 });
      return c.json(await listLogs(scoped(c, deps), id, { ...filter, limit, cursor: c.req.query("cursor") || undefined }));
    }
    if (c.req.query("limit")) throw invalid("limit does not apply with follow", "limit");
    // HEAD gets the headers a follow would: no follower is started for a body nobody reads.
    if (c.req.method === "HEAD") {
      await getRun(scoped(c, deps), id);
      return c.body(null, 200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    }
    const stop = new AbortController();
    const lines = await openFollow({ store: deps.store, events: deps.scheduler.events, access: scoped(c, deps).access }, id, filter, stop.signal, { after: resumeAfter(c) });
    return sendLines(c, deps, lines, stop);
  });

  return app;
}

/** Streams batches of lines as `line` events, then one `end` event; the client leaving stops the follower. */
export function sendLines(c: Context, deps: RouteDeps, lines: AsyncGenerator<LogLine[], string | null>, stop: AbortController): Response {
  return streamSSE(c, async (stream) => {
    const abort = () => stop.abort();
    stream.onAbort(abort);
    c.req.raw.signal.addEventListener("abort", abort);
    const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    try {
      await stream.write(": following\n\n"); // sends the headers now, before the first line exists
      let next = await lines.next();
      while (!next.done) {
        for (const l of next.value) await stream.writeSSE({ event: "line", id: String(l.seq), data: JSON.stringify(l) });
        next = await lines.next();
      }
      // null: the client left, or the run was deleted meanwhile (a reconnect then gets the 404)
      if (next.value !== null) await stream.writeSSE({ event: "end", data: JSON.stringify({ status: next.value }) });
    } catch (e) {
      deps.log.error("following a run's logs failed", { error: e instanceof Error ? e.message : String(e), path: c.req.path });
    } finally {
      clearInterval(keepAlive);
      c.req.raw.signal.removeEventListener("abort", abort);
      stop.abort(); // a follower left suspended by an error removes its listeners
      await lines.return(null);
    }
  });
}
