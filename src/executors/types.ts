// One interface for every executor. Timeouts and kills arrive as an aborted signal; the scheduler, which
// owns the signal, decides whether that was a timeout or a kill.

export interface ExecRequest {
  runId: number;
  /** The idempotency key shared by every attempt of a slot (HTTP `webhook-id`). */
  key: string;
  namespace: string;
  jobName: string;
  scheduledAt: number;
  attempt: number;
  /** The body of the job's target for this executor's kind (HttpTarget for http, …). */
  target: unknown;
  payload: unknown;
  /** Where the run's output goes as it comes (process, script and container runs). */
  output?: RunOutput;
  /**
   * Told the process group of a process, script or container run once it started, who its leader is, and
   * the container's name for a container run.
   */
  spawned?(pgid: number, identity: string | null, container?: string): void;
}

/** What an HTTP run sends: `method` defaults to POST, `body` to the job's payload as JSON. */
export interface HttpTarget {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What a TCP run sends (`body`, base64) and the answer it waits for (`ack`, base64), if any. */
export interface TcpTarget {
  addr: string;
  body: string;
  ack?: string;
}

/** A local command: an argv, or a shell string (a run's extra `args` follow it as $1, $2, …). */
export interface ProcessTarget {
  command?: string[];
  shell?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  inheritEnv?: boolean;
}

export interface ScriptTarget {
  language: string;
  content: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface ContainerTarget {
  image: string;
  tag?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources?: { cpus?: number; memory?: string };
}

/** A target by kind: exactly one is set. */
export interface Target {
  http?: HttpTarget;
  tcp?: TcpTarget;
  process?: ProcessTarget;
  script?: ScriptTarget;
  container?: ContainerTarget;
}

export type LogStream = "stdout" | "stderr";

/**
 * A run's output sink. Executors hand over raw chunks as they arrive; the sink splits them into lines,
 * timestamps, caps and stores them (run_logs) and keeps the tail for the run record.
 */
export interface RunOutput {
  /** A promise back means: wait for it before reading more (the sink is behind). */
  write(stream: LogStream, chunk: Uint8Array): void | Promise<void>;
  /** A line from tock itself about the run (stream "tock"), e.g. "sent SIGTERM to the process group". */
  note(line: string): void;
}

export interface Outcome {
  status: "succeeded" | "failed";
  result?: Record<string, unknown>;
  error?: string;
  /** The callee asked to be retried no sooner than this (HTTP 429/503 Retry-After). */
  retryAfterMs?: number;
}

export interface Executor {
  execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome>;
  /**
   * What it can run on this node, when not every target of its kind: "script:<language>" for each language
   * whose interpreter is present; none for container jobs when the container CLI is missing.
   */
  offers?: readonly string[];
  /**
   * Ends what a run of this executor left behind when the tock that ran it died (a container, by the name
   * `spawned` reported: it outlives its CLI); called by the run's recovery on the same machine. Never rejects.
   */
  cleanup?(handle: string): Promise<void>;
}

/** HTTP and TCP always; process, script and container only where the config turns them on. */
export type Executors = Record<"http" | "tcp", Executor> & Partial<Record<"process" | "script" | "container", Executor>>;

/** What a node's executors can run: each kind, or what its executor offers (scripts by language). */
export function offered(executors: Executors): string[] {
  return Object.entries(executors).flatMap(([kind, e]) => (e ? (e.offers ?? [kind]) : []));
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
