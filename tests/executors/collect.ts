// A RunOutput for executor tests: keeps every chunk with its stream and arrival time, and tock's notes.
import type { LogStream, RunOutput } from "../../src/executors/types.ts";

export function collector() {
  const chunks: { stream: LogStream; text: string; at: number }[] = [];
  const notes: string[] = [];
  const decoder = new TextDecoder();
  const output: RunOutput = {
    write: (stream, chunk) => {
      chunks.push({ stream, text: decoder.decode(chunk), at: performance.now() });
    },
    note: (line) => notes.push(line),
  };
  const text = (stream: LogStream) => chunks.filter((c) => c.stream === stream).map((c) => c.text).join("");
  /** Resolves when `stream` has printed `s`. */
  const waitFor = async (stream: LogStream, s: string) => {
    while (!text(stream).includes(s)) await Bun.sleep(10);
  };
  return { chunks, notes, output, text, waitFor };
}
