// Run output into run_logs: executors hand over raw chunks; here they become timestamped lines, capped per
// run, written in batches (one INSERT for every line of every run in a batch, through the group writer),
// with the last lines kept for the run record (output_tail).
import type { LogStream, RunOutput } from "../executors/types.ts";
import type { Logger } from "../log.ts";
import { errorText } from "../executors/types.ts";
import type { Clock } from "../clock.ts";
import type { GroupWriter } from "../store/group-writer.ts";
import { insertLines, type LogLine } from "../store/run-output.ts";
import type { Emitter } from "./events.ts";
import type { OutputOptions } from "./types.ts";

export type { OutputOptions } from "./types.ts";

/** A line longer than this is stored in pieces: one line must not hold the whole cap in memory. */
export const MAX_LINE = 16 * 1024;
/** Output is taken in slices of at most this many bytes per turn of the event loop. */
const SLICE_BYTES = 64 * 1024;
/** The tail on the run record is at most this many characters. */
const MAX_TAIL_CHARS = 4096;
/** Lines are written this long after the first of a batch, or at once past this many lines or bytes. */
const FLUSH_MS = 50;
const FLUSH_LINES = 2000;
const FLUSH_BYTES = 512 * 1024;
/** Each stored line costs this much of the cap besides its text: a million 1-byte lines are not "1 MiB". */
export const LINE_OVERHEAD = 64;
/**
 * Output accepted but not yet committed, across all runs, past which readers wait (the child then blocks
 * on its pipe, as on a slow terminal): a chatty job cannot outrun the database with memory.
 */
const MAX_UNWRITTEN_BYTES = 8 * 1024 * 1024;

export class RunLogs {
  #rows: LogLine[] = [];
  #rowBytes = 0;
  /** Bytes of lines pending or being written. */
  #unwritten = 0;
  #drained: { promise: Promise<void>; resolve: () => void } | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The log writes queued, one after another. */
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { writer: GroupWriter; clock: Clock; events: Emitter; log: Logger },
    private readonly opts: OutputOptions,
  ) {}

  /** A sink for one run's output. */
  open(runId: number): RunSink {
    return new RunSink(runId, this.opts, this.deps.clock, (row) => this.#push(row), () => this.#backpressure());
  }

  #push(row: LogLine) {
    this.#rows.push(row);
    const bytes = row[4].length + LINE_OVERHEAD;
    this.#rowBytes += bytes;
    this.#unwritten += bytes;
    if (this.#rows.length >= FLUSH_LINES || this.#rowBytes >= FLUSH_BYTES) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** A promise to wait on while too much output is unwritten; undefined when there is room. */
  #backpressure(): Promise<void> | undefined {
    if (this.#unwritten < MAX_UNWRITTEN_BYTES) return undefined;
    if (!this.#drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#drained = { promise, resolve };
    }
    return this.#drained.promise;
  }

  #written(bytes: number) {
    this.#unwritten -= bytes;
    if (this.#drained && this.#unwritten < MAX_UNWRITTEN_BYTES / 2) {
      this.#drained.resolve();
      this.#drained = null;
    }
  }

  /**
   * Writes every pending line, after the lines already being written: one log write at a time, each of at
   * most FLUSH_LINES lines and about FLUSH_BYTES, so no write transaction (which claims and end records
   * share) grows with how much jobs print. Resolves once these lines are committed (or failed): the runner
   * waits for it before recording a run's end, so a follower that sees the run finished has every line.
   */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#rows.length === 0) return this.#chain;
    const rows = this.#rows;
    const bytes = this.#rowBytes;
    this.#rows = [];
    this.#rowBytes = 0;
    this.#chain = this.#chain.then(() => this.#write(rows, bytes));
    return this.#chain;
  }

  async #write(rows: LogLine[], bytes: number): Promise<void> {
    try {
      await this.deps.writer.submit(insertLines(rows));
    } catch (e) {
      // Lost lines are not worth failing the run for; the run's own end is recorded separately.
      this.deps.log.error("could not store run output", { error: errorText(e), lines: rows.length });
      return;
    } finally {
      this.#written(bytes);
    }
    if (!this.deps.events.has("run:log")) return;
    const last = new Map<number, number>();
    for (const [runId, seq] of rows) last.set(runId, seq);
    for (const [runId, seq] of last) this.deps.events.emit("run:log", { runId, seq });
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
    private readonly push: (row: LogLine) => void,
    private readonly backpressure: () => Promise<void> | undefined = () => undefined,
  ) {}

  /** Returns a promise when the reader should wait before the next chunk (output not yet written). */
  write(stream: LogStream, chunk: Uint8Array): Promise<void> | undefined {
    // A pipe read can return megabytes at once: split in slices, giving the event loop a turn between them.
    if (chunk.byteLength > SLICE_BYTES) return this.#writeSliced(stream, chunk);
    this.#take(stream, chunk);
    return this.backpressure();
  }

  async #writeSliced(stream: LogStream, chunk: Uint8Array): Promise<void> {
    for (let at = 0; at < chunk.byteLength; at += SLICE_BYTES) {
      this.#take(stream, chunk.subarray(at, at + SLICE_BYTES));
      await (this.backpressure() ?? new Promise((r) => setTimeout(r, 0)));
    }
  }

  #take(stream: LogStream, chunk: Uint8Array) {
    const text = this.#partial[stream] + this.#decoders[stream].decode(chunk, { stream: true });
    let from = 0;
    if (this.#capped) from = this.#skip(text);
    for (let nl = text.indexOf("\n", from); nl !== -1; nl = text.indexOf("\n", from)) {
      this.#line(stream, text.slice(from, nl));
      from = nl + 1;
    }
    let rest = text.slice(from);
    while (rest.length > MAX_LINE) {
      const cut = safeCut(rest, MAX_LINE);
      this.#line(stream, rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    this.#partial[stream] = rest;
  }

  /**
   * Past the cap, lines are only counted, without building them, except the last few (for the tail):
   * returns where those begin.
   */
  #skip(text: string): number {
    let keepFrom = text.length;
    for (let k = 0; k <= this.opts.tailLines && keepFrom > 0; k++) {
      const nl = text.lastIndexOf("\n", keepFrom - 1);
      if (nl === -1) return 0;
      keepFrom = nl;
    }
    if (keepFrom <= 0) return 0;
    let lines = 0;
    for (let nl = text.indexOf("\n"); nl !== -1 && nl < keepFrom; nl = text.indexOf("\n", nl + 1)) lines++;
    lines++; // the line ending at keepFrom
    this.#droppedLines += lines;
    this.#droppedBytes += Buffer.byteLength(text.slice(0, keepFrom + 1));
    return keepFrom + 1;
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
    return tail.length > MAX_TAIL_CHARS ? tail.slice(tail.length - safeCut(tail, MAX_TAIL_CHARS, true)) : tail;
  }

  #line(stream: LogStream, raw: string): void {
    // A line that came whole but longer than MAX_LINE is stored in pieces too.
    if (raw.length > MAX_LINE) {
      const cut = safeCut(raw, MAX_LINE);
      this.#line(stream, raw.slice(0, cut));
      return this.#line(stream, raw.slice(cut));
    }
    // Lone surrogates (invalid UTF-16, e.g. from bytes that are not UTF-8) cannot be stored as UTF-8 text.
    const line = (raw.endsWith("\r") ? raw.slice(0, -1) : raw).toWellFormed();
    this.#keepTail(line);
    const size = Buffer.byteLength(line) + LINE_OVERHEAD;
    if (!this.#capped && this.#bytes + size > this.opts.maxLogBytes) {
      this.#capped = true;
      this.#store("tock", `output reached the log cap of ${this.opts.maxLogBytes} bytes: further lines are not stored (the process goes on)`);
    }
    if (this.#capped) {
      this.#droppedLines++;
      this.#droppedBytes += size - LINE_OVERHEAD + 1; // the text and its newline
      return;
    }
    this.#bytes += size;
    this.#store(stream, line);
  }

  #store(stream: string, line: string) {
    this.push([this.runId, ++this.#seq, this.clock.now(), stream, line.toWellFormed()]);
  }

  #keepTail(line: string) {
    if (this.opts.tailLines === 0) return;
    this.#tail.push(line.length > MAX_TAIL_CHARS ? line.slice(0, safeCut(line, MAX_TAIL_CHARS)) : line);
    if (this.#tail.length > this.opts.tailLines) this.#tail.shift();
  }
}

/**
 * A length near `n` at which `s` can be cut without splitting a surrogate pair: `n`, or one less when the
 * cut would fall between the two halves. `fromEnd`: the length of a suffix instead of a prefix.
 */
export function safeCut(s: string, n: number, fromEnd = false): number {
  const at = fromEnd ? s.length - n : n;
  const before = s.charCodeAt(at - 1);
  const splits = before >= 0xd800 && before <= 0xdbff;
  return splits ? n - 1 : n;
}
