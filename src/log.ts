// A small structured logger: one JSON object (or one text line) per event on stderr.
export type Level = "debug" | "info" | "warn" | "error";
export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void>;

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(opts: { level?: Level; format?: "json" | "text"; write?: (line: string) => void } = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => console.error(line));
  const emit = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    if (opts.format === "text") {
      const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("") : "";
      write(`${time} ${level.toUpperCase()} ${msg}${extra}`);
    } else {
      write(JSON.stringify({ time, level, msg, ...fields }));
    }
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
