// Run output into run_logs: executors hand over raw chunks; here they become timestamped lines, capped per
// run, written in batches (one INSERT for every line of every run in a batch, through the group writer),
// with the last lines kept for the run record (output_tail).
import type { LogStream, RunOutput } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import { errorText } from "../executors/types.ts";
import type { Clock } from "./clock.ts";
import type { Emitter } from "./events.ts";
import type { GroupWriter } from "./writer.ts";

export interface OutputOptions {
  /** Bytes of lines stored per run; past it, lines are dropped (and the cap noted), the process goes on. */
  maxLogBytes: number;
  /** Last lines kept on the run record. */
  tailLines: number;
}

/** A line longer than this is stored in pieces: one line must not hold the whole cap in memory. */
export const MAX_LINE = 16 * 1024;
/** The tail on the run record is at most this many characters. */
const MAX_TAIL_CHARS = 4096;
/** Lines are written this long after the first of a batch, or at once past this many. */
const FLUSH_MS = 50;
const FLUSH_LINES = 2000;

type Row = [runId: number, seq: number, at: number, stream: string, line: string];

export class RunLogs {
  #rows: Row[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly deps: { writer: GroupWriter; clock: Clock; events: Emitter; log: Logger },
    private readonly opts: OutputOptions,
  ) {}

  /** A sink for one run's output. */
  open(runId: number): RunSink {
    return new RunSink(runId, this.opts, this.deps.clock, (row) => this.#push(row));
  }

  #push(row: Row) {
    this.#rows.push(row);
    if (this.#rows.length >= FLUSH_LINES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /**
   * Queues every pending line for the next write. Lines go to the writer before anything queued later,
   * so a run's lines commit no later than its end record (a follower that sees the run finished has
   * every line).
   */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    this.deps.writer
      .submit([
        {
          sql: `INSERT INTO run_logs (run_id, seq, at, stream, line)
                SELECT l.value->>0, l.value->>1, l.value->>2, l.value->>3, l.value->>4 FROM json_each(?) AS l`,
          args: [JSON.stringify(rows)],
        },
      ])
      .then(
        () => {
          if (!this.deps.events.has("run:log")) return;
          const last = new Map<number, number>();
          for (const [runId, seq] of rows) last.set(runId, seq);
          for (const [runId, seq] of last) this.deps.events.emit("run:log", { runId, seq });
        },
        // Lost lines are not worth failing the run for; the run's own end is recorded separately.
        (e) => this.deps.log.error("could not store run output", { error: errorText(e), lines: rows.length }),
      );
  }
}

/** One run's output: splits chunks into lines per stream, counts bytes against the cap, keeps the tail. */
export class RunSink implements RunOutput {
  #seq = 0;
  #bytes = 0;
  #capped = false;
  #droppedLines = 0;
  #droppedBytes = 0;
  #partial: Record<LogStream, string> = { stdout: "", stderr: "" };
  #decoders: Record<LogStream, TextDecoder> = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  #tail: string[] = [];

  constructor(
    readonly runId: number,
    private readonly opts: OutputOptions,
    private readonly clock: Clock,
    private readonly push: (row: Row) => void,
  ) {}

  write(stream: LogStream, chunk: Uint8Array): void {
    const text = this.#partial[stream] + this.#decoders[stream].decode(chunk, { stream: true });
    let from = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
      this.#line(stream, text.slice(from, nl));
      from = nl + 1;
    }
    let rest = text.slice(from);
    while (rest.length > MAX_LINE) {
      this.#line(stream, rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
    this.#partial[stream] = rest;
  }

  note(line: string): void {
    // tock's own notes are few and explain what happened to the run: stored even past the cap.
    this.#store("tock", line);
    this.#keepTail(`[tock] ${line}`);
  }

  /** Ends the output: stores unfinished last lines and notes what the cap dropped. Returns the tail. */
  close(): string | null {
    for (const stream of ["stdout", "stderr"] as const) {
      const rest = this.#partial[stream] + this.#decoders[stream].decode();
      this.#partial[stream] = "";
      if (rest) this.#line(stream, rest);
    }
    if (this.#droppedLines > 0) {
      this.note(`${this.#droppedLines} more line(s), ${this.#droppedBytes} bytes, over the log cap of ${this.opts.maxLogBytes} bytes were not stored`);
    }
    if (this.#tail.length === 0) return null;
    const tail = this.#tail.join("\n");
    return tail.length > MAX_TAIL_CHARS ? tail.slice(tail.length - MAX_TAIL_CHARS) : tail;
  }

  #line(stream: LogStream, raw: string) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    this.#keepTail(line);
    const size = Buffer.byteLength(line) + 1;
    if (!this.#capped && this.#bytes + size > this.opts.maxLogBytes) {
      this.#capped = true;
      this.#store("tock", `output reached the log cap of ${this.opts.maxLogBytes} bytes: further lines are not stored (the process goes on)`);
    }
    if (this.#capped) {
      this.#droppedLines++;
      this.#droppedBytes += size;
      return;
    }
    this.#bytes += size;
    this.#store(stream, line);
  }

  #store(stream: string, line: string) {
    this.push([this.runId, ++this.#seq, this.clock.now(), stream, line]);
  }

  #keepTail(line: string) {
    if (this.opts.tailLines === 0) return;
    this.#tail.push(line.length > MAX_TAIL_CHARS ? line.slice(0, MAX_TAIL_CHARS) : line);
    if (this.#tail.length > this.opts.tailLines) this.#tail.shift();
  }
}
