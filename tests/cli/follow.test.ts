// `tock runs logs --follow` against a server whose event stream breaks off before the run ends: the client
// connects again with Last-Event-ID and prints each line once. The server here is a real HTTP server that
// plays the API's part (the real one cannot be made to drop a stream on cue).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, run } from "../e2e/process.ts";

const asked: (string | null)[] = [];
const line = (seq: number, text: string) => `event: line\nid: ${seq}\ndata: ${JSON.stringify({ seq, at: "2026-01-01T00:00:00Z", stream: "stdout", line: text })}\n\n`;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/api/v1/runs/8/logs") {
      // A slow run: its stream answers at once, then its lines come over a second and a half.
      const stream = new ReadableStream<string>({
        async start(out) {
          out.enqueue(": following\n\n");
          for (const [seq, text] of [[1, "slow one"], [2, "slow two"], [3, "slow three"]] as const) {
            await Bun.sleep(500);
            out.enqueue(line(seq, text));
          }
          out.enqueue(`event: end\ndata: {"status":"succeeded"}\n\n`);
          out.close();
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    if (url.pathname !== "/api/v1/runs/7/logs" || url.searchParams.get("follow") !== "1") return Response.json({ error: { code: "not_found", message: "run 7 not found" } }, { status: 404 });
    const after = req.headers.get("last-event-id");
    asked.push(after);
    // First connection: two lines, then the stream ends without an `end` event. Second: the rest.
    const body = after === null ? `: following\n\n${line(1, "one")}${line(2, "two")}` : `${line(3, "three")}event: end\ndata: {"status":"timed_out"}\n\n`;
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  },
});
afterAll(() => server.stop(true));

/** `tock runs logs ID --follow` (and `extra`) against the server here: its exit code and output. */
const follow = (id: number, extra: string[] = []) =>
  run([process.execPath, join(ROOT, "src/main.ts"), "runs", "logs", String(id), "--follow", ...extra], { env: { PATH: process.env.PATH ?? "", TOCK_SERVER: `http://127.0.0.1:${server.port}` } });

test("a stream cut before the end is taken up after the last line seen; the exit code is the run's", async () => {
  expect(await follow(7)).toEqual({ code: 1, stdout: "one\ntwo\nthree\n", stderr: "tock: run 7 ended timed_out\n" });
  expect(asked).toEqual([null, "2"]);
}, 30_000);

test("--timeout bounds the server's answer, not how long a followed run's output takes", async () => {
  expect(await follow(8, ["--timeout", "1s"])).toEqual({ code: 0, stdout: "slow one\nslow two\nslow three\n", stderr: "" });
}, 30_000);
