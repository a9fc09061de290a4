// Shared by the SchedulerX tests: a started test env with process executors, a client that sends the
// vendor's parameters as a form body, a query string or JSON, and the answers' envelope checks.
import { afterEach, expect } from "bun:test";
import { parseConfig } from "../../../src/config.ts";
import { type TestEnv, testEnv, withProcesses } from "../../helpers.ts";

export const DEFAULTS = parseConfig(null, {});
export const executors = (interpreters: Record<string, string[]> = {}) =>
  withProcesses({}, { script: { ...DEFAULTS.executors.script, interpreters: { ...DEFAULTS.executors.script.interpreters, ...interpreters } } });

let envs: TestEnv[] = [];
export async function env(opts: Parameters<typeof testEnv>[0] = {}): Promise<TestEnv> {
  const e = await testEnv({ start: true, ...opts, config: { executors: executors(), scheduler: { pollInterval: 200 }, ...opts.config } });
  envs.push(e);
  return e;
}
/** Closes every env a test made (call once per test file). */
export function closeEnvs() {
  afterEach(async () => {
    await Promise.all(envs.map((e) => e.close()));
    envs = [];
  });
}

export type How = "form" | "query" | "json" | "get";
export type Answer = { status: number; body: any };

/** Calls a SchedulerX endpoint with `params` sent as a form body (POST), a query string (GET) or JSON (POST). */
export async function sx(e: TestEnv, path: string, params: Record<string, unknown> = {}, how: How = "form"): Promise<Answer> {
  const text = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, text(v)])).toString();
  if (how === "json") return e.call("POST", path, params);
  // Parameters in the query string of a POST (changes take POST only); reads also answer GET (how "get").
  if (how === "query" || how === "get") return e.call(how === "get" ? "GET" : "POST", `${path}${qs ? `?${qs}` : ""}`);
  return e.call("POST", path, qs, { "content-type": "application/x-www-form-urlencoded" });
}

export const NS = { namespace: "adcfc35d-e2fe-4fe9-bbaa-20e90ffc0001", groupId: "testSchedulerx.defaultGroup" };
export const NATIVE_NS = `${NS.namespace}:${NS.groupId}`;
const UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;

export function expectOk(r: Answer, data?: unknown) {
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ code: 200, success: true, message: "" });
  expect(r.body.requestId).toMatch(UUID);
  if (data === undefined) expect("data" in r.body).toBe(false);
  else expect(r.body.data).toEqual(data);
}

export function expectError(r: Answer, status: number, ...words: string[]) {
  expect({ status: r.status, code: r.body?.code, success: r.body?.success }).toEqual({ status, code: status, success: false });
  expect(r.body.requestId).toMatch(UUID);
  for (const w of words) expect(r.body.message).toContain(w);
  expect("data" in r.body).toBe(false);
}

/** Every documented CreateJobRequest parameter, as the document names them. */
export const FULL = {
  ...NS,
  namespaceSource: "schedulerx",
  jobType: "shell",
  content: 'echo "hello $SCHEDULERX_JOB_PARAMETERS"',
  name: "helloworld",
  description: "Test",
  executeMode: "standalone",
  parameters: "test",
  maxConcurrency: 2,
  maxAttempt: 3,
  attemptInterval: 20,
  timeType: 1,
  timeExpression: "0 0/10 * * * ?",
  calendar: "工作日",
  dataOffset: 2400,
  pageSize: 50,
  consumerSize: 6,
  queueSize: 5000,
  dispatcherSize: 4,
  taskMaxAttempt: 2,
  taskAttemptInterval: 10,
  timeoutEnable: true,
  timeout: 3600,
  timeoutKillEnable: true,
  failEnable: true,
  sendChannel: "sms",
  contactInfo: [{ userPhone: "1381111****", userName: "userA" }, { userPhone: "1392222****", userName: "userB" }],
};

/** GetJobInfo's JobConfigInfo for FULL. */
export const FULL_INFO = {
  jobType: "shell",
  className: null,
  jarUrl: null,
  content: FULL.content,
  name: "helloworld",
  description: "Test",
  status: 1,
  executeMode: "standalone",
  parameters: "test",
  maxConcurrency: 2,
  maxAttempt: 3,
  attemptInterval: 20,
  mapTaskXAttrs: { pageSize: 50, consumerSize: 6, queueSize: 5000, dispatcherSize: 4, taskMaxAttempt: 2, taskAttemptInterval: 10 },
  timeConfig: { timeType: 1, timeExpression: "0 0/10 * * * ?", calendar: "工作日", dataOffset: 2400 },
  jobMonitorInfo: {
    monitorConfig: { timeoutEnable: true, timeout: 3600, timeoutKillEnable: true, failEnable: true, sendChannel: "sms" },
    contactInfo: FULL.contactInfo,
  },
};

export async function create(e: TestEnv, params: Record<string, unknown>, how: How = "form"): Promise<number> {
  const r = await sx(e, "/openapi/v1/job/create", { ...NS, executeMode: "standalone", ...params }, how);
  expectOk(r, expect.any(Number));
  return r.body.data;
}

export const getInfo = async (e: TestEnv, jobId: number) => (await sx(e, "/openapi/job/v1/get", { ...NS, jobId }, "get")).body.data;

/** Executes a job and returns its instance's detail once the run has ended. */
export async function execute(e: TestEnv, jobId: number, instanceParameters?: string, how: How = "form") {
  const finished = e.deps.scheduler.events.next("run:finished", () => true, 15_000);
  const r = await sx(e, "/openapi/v1/job/execute", { ...NS, jobId, ...(instanceParameters === undefined ? {} : { instanceParameters }) }, how);
  expectOk(r, expect.any(Number));
  await finished;
  await e.deps.scheduler.idle();
  const got = await sx(e, "/openapi/v1/instance/get", { ...NS, jobId, jobInstanceId: r.body.data }, "get");
  expectOk(got, expect.any(Object));
  return got.body.data;
}
