// A small structured logger: one JSON object (or one text line) per event on stdout. Under systemd
// (JOURNAL_STREAM set) each line starts with its syslog priority (<3> error … <7> debug), which journald
// takes off and keeps, so `journalctl -p warning` shows warnings and errors only.
//
// Every line is scrubbed of secrets here, once, rather than at each call site: a database URL with
// ?authToken=, a callback URL with user:password@, or an error message quoting either can reach a log
// from anywhere, and a call site that forgets is a leaked credential.
import process from "node:process";

export type Level = "debug" | "info" | "warn" | "error";
export type Logger = Record<Level, (msg: string, fields?: Record<string, unknown>) => void> & {
  /** Whether lines of `level` are written (a logger without it writes every level). */
  enabled?(level: Level): boolean;
};

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** sd-daemon(3) priorities: journald reads them from the start of each line. */
const PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/**
 * Writes lines to stdout (or stderr), those of one turn of the event loop together: a busy API logs a line per change,
 * and one write per line would cost more than the change. Warnings and errors go out at once, and whatever
 * waits goes out when the process exits.
 */
function lineWriter(stream: "stdout" | "stderr"): (line: string, urgent: boolean) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("\n");
    pending = [];
    if (stream === "stdout") console.log(text);
    else console.error(text);
  };
  process.on("exit", flush);
  return (line, urgent) => {
    pending.push(line);
    if (urgent) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

export function createLogger(
  opts: { level?: Level; format?: "json" | "text"; write?: (line: string) => void; journal?: boolean; stream?: "stdout" | "stderr" } = {},
): Logger {
  const min = ORDER[opts.level ?? "info"];
  const lines = opts.write ? undefined : lineWriter(opts.stream ?? "stdout");
  const journal = opts.journal ?? Boolean(process.env.JOURNAL_STREAM);
  const emit = (level: Level) => (rawMsg: string, rawFields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return;
    const time = new Date().toISOString();
    const msg = maskSecrets(rawMsg);
    const fields = rawFields && maskFields(rawFields);
    let line: string;
    if (opts.format === "text") {
      const extra = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join("") : "";
      line = `${time} ${level.toUpperCase()} ${msg}${extra}`;
    } else {
      line = JSON.stringify({ time, level, msg, ...fields });
    }
    if (journal) line = `<${PRIORITY[level]}>${line}`;
    if (lines) lines(line, ORDER[level] >= ORDER.warn);
    else opts.write!(line);
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error"), enabled: (level) => ORDER[level] >= min };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export const MASK = "***";

/**
 * Names of query parameters and log fields whose values are secrets: auth_token, authToken, token,
 * access_token, password, passwd, secret, client_secret, key, api_key, apiKey, x-api-key, sig (SAS URLs),
 * signature, credential, and (as fields) authorization and cookie headers. A harmless name that matches
 * too (monkey=) only costs a masked value.
 */
const SECRET_NAME = /token|secret|passw(?:or)?d|pwd|key$|^sig$|signature|credential|authorization|cookie/i;

// scheme://user:password@host: the password, up to the last @ before the path (a password may hold @).
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):([^\s/?#]*)@/gi;
// name=value at the start, after ? & ; or a separator: a query parameter, or name=value in a message.
// The value ends at & # whitespace or a quote (query values are percent-encoded, so they hold none).
const PARAM = /(^|[?&;\s"'(,{])([\w.[\]-]+)=([^&#\s"'<>]+)/g;

/** `text` with URL passwords and the values of secret-named parameters replaced by ***. */
export function maskSecrets(text: string): string {
  // The cheap case first: nearly every log string has neither character, and costs two scans.
  const at = text.indexOf("@") !== -1;
  const eq = text.indexOf("=") !== -1;
  if (!at && !eq) return text;
  let out = text;
  if (at) out = out.replace(USERINFO, (all, head: string, pass: string) => (pass === "" ? all : `${head}:${MASK}@`));
  if (eq) out = out.replace(PARAM, (all, pre: string, name: string) => (SECRET_NAME.test(name) ? `${pre}${name}=${MASK}` : all));
  return out;
}

/** The fields with every string scrubbed (nested objects and arrays too), and secret-named fields masked whole. */
export function maskFields(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = SECRET_NAME.test(k) && v !== undefined && v !== null && v !== "" ? MASK : maskValue(v, depth);
  }
  return out;
}

function maskValue(v: unknown, depth: number): unknown {
  if (typeof v === "string") return maskSecrets(v);
  if (v === null || typeof v !== "object") return v;
  // Deeper than this is not a log field anyone writes; it is dropped rather than logged unscrubbed.
  if (depth >= 4) return "[nested]";
  if (Array.isArray(v)) return v.map((x) => maskValue(x, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) return maskFields(v as Record<string, unknown>, depth + 1);
  // An Error serialises to {}; its message is what a reader needs, and may quote a URL.
  if (v instanceof Error) return maskSecrets(v.message);
  return v;
}
