// The client's pure parts: the parser's edges, table layout, relative times, the progress frame, the
// server-sent event reader and the comparison that keeps a re-import from changing anything.
import { describe, expect, test } from "bun:test";
import { EXIT, parseClient } from "../../src/cli/args.ts";
import { sameJob } from "../../src/cli/import.ts";
import { progress, renderProgress } from "../../src/cli/progress.ts";
import { sseEvents } from "../../src/cli/sse.ts";
import { cut, relative, shortDuration, table } from "../../src/cli/table.ts";

describe("the parser", () => {
  test("flags before or after the command, --flag=value, -- ends flags", () => {
    const p = parseClient(["--server", "http://x", "runs", "ls", "--status=failed", "-n", "5", "--json"]);
    expect(p.command?.path).toEqual(["runs", "ls"]);
    expect(p.flags).toEqual({ server: "http://x", status: "failed", limit: "5", json: true });
    const dash = parseClient(["preview", "--", "-1 * * * *"]);
    expect(dash.args).toEqual(["-1 * * * *"]);
    // -f is a file in jobs put and a switch in runs logs: each command has its own flags.
    expect(parseClient(["jobs", "put", "a/b", "-f", "job.json"]).flags).toEqual({ file: "job.json" });
    expect(parseClient(["runs", "logs", "-f", "12"])).toMatchObject({ args: ["12"], flags: { follow: true } });
  });

  test("usage errors: a value missing, a switch given one, too many arguments, a flag of another command", () => {
    const code = (argv: string[]) => {
      try {
        parseClient(argv);
        return "parsed";
      } catch (e) {
        return [(e as { exitCode: number }).exitCode, (e as Error).message.split("\n")[0]];
      }
    };
    expect(code(["jobs", "ls", "--namespace"])).toEqual([EXIT.usage, "--namespace needs a value (NS)"]);
    expect(code(["jobs", "ls", "--json=yes"])).toEqual([EXIT.usage, "--json takes no value"]);
    expect(code(["jobs", "put", "a/b"])).toEqual([EXIT.usage, "tock jobs put: --file FILE is required"]);
    expect(code(["jobs", "get", "a/b", "c/d"])).toEqual([EXIT.usage, 'tock jobs get: unexpected argument "c/d"']);
    expect(code(["preview", "@daily", "--follow"])).toEqual([EXIT.usage, "unknown flag --follow for tock preview (tock preview --help lists its flags)"]);
  });
});

describe("output", () => {
  test("tables align on code points and cut wide cells with an ellipsis", () => {
    const t = table([{ header: "A" }, { header: "B", max: 5 }, { header: "C" }], [["é", "abcdefgh", null], ["xyz", "ab", 3]]);
    expect(t).toBe("A    B      C\né    abcd…  -\nxyz  ab     3\n");
    expect(cut("short", 10)).toBe("short");
  });

  test("relative times and short durations", () => {
    const now = Date.parse("2026-03-14T09:00:00Z");
    expect(relative("2026-03-14T09:05:00Z", now)).toBe("in 5m");
    expect(relative("2026-03-14T06:30:10Z", now)).toBe("2h29m ago");
    expect(relative("2026-03-14T09:00:00.400Z", now)).toBe("now");
    expect(relative(null, now)).toBe("-");
    expect(shortDuration(90_061_000)).toBe("1d1h");
    expect(shortDuration(3_600_000)).toBe("1h");
    expect(shortDuration(61_000)).toBe("1m1s");
    expect(shortDuration(250)).toBe("250ms");
  });

  test("the progress bar: frames at most ten a second, always the last one, nothing off a terminal", () => {
    expect(renderProgress(25, 100, 2, 20)).toBe("importing [#####...............] 25/100  25%  2 failed");
    const frames: string[] = [];
    let t = 0;
    const bar = progress(3, (s) => frames.push(s), true, () => t);
    bar.update(1, 0);
    bar.update(2, 0); // same instant: skipped
    t = 50;
    bar.update(3, 0); // the last: always drawn
    bar.clear();
    expect(frames.map((f) => f.replace(/\[[#.]+\]/, "[]"))).toEqual(["\rimporting [] 1/3  33%\x1b[K", "\rimporting [] 3/3 100%\x1b[K", "\r\x1b[K"]);
    const quiet: string[] = [];
    const off = progress(3, (s) => quiet.push(s), false);
    off.update(3, 0);
    off.clear();
    expect(quiet).toEqual([]);
  });
});

test("server-sent events split across chunks, with comments and CRLF", async () => {
  const chunks = [": following\n\n", "event: line\nid: 1\ndata: {\"a\"", ":1}\r\n\r\n: keep-alive\n\nevent: end\ndata: {\"status\":\"failed\"}\n\n"];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const s of chunks) c.enqueue(new TextEncoder().encode(s));
      c.close();
    },
  });
  const got = [];
  for await (const ev of sseEvents(body)) got.push(ev);
  expect(got).toEqual([
    { event: "line", id: "1", data: '{"a":1}' },
    { event: "end", id: undefined, data: '{"status":"failed"}' },
  ]);
});

test("a job equals its export when only server-set fields, nulls and key order differ; any other field makes it differ", () => {
  const stored = { id: 7, namespace: "n", name: "j", schedule: "@daily", memo: null, labels: { b: "2", a: "1" }, target: { http: { url: "http://x", method: "POST" } }, version: 4, status: "scheduled", nextFireAt: "2026-01-01T00:00:00Z" };
  const file = { target: { http: { method: "POST", url: "http://x" } }, labels: { a: "1", b: "2" }, schedule: "@daily", namespace: "other", name: "j" };
  expect(sameJob(stored, file)).toBe(true);
  expect(sameJob(stored, { ...file, labels: { a: "1" } })).toBe(false);
  expect(sameJob(stored, { ...file, memo: "x" })).toBe(false);
  expect(sameJob(stored, { ...file, target: { http: { method: "PUT", url: "http://x" } } })).toBe(false);
});
