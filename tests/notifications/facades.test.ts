// The foreign APIs' alerts as notifications: SchedulerX's alarm settings (failEnable, with its contacts in
// the document) to [compat] schedulerx_alarm_url, and Alauda's jobs to [compat] alauda_notify_url.
import { afterAll, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { startSink, testEnv, waitUntil, withProcesses } from "../helpers.ts";
import { NS, sx } from "../compat/schedulerx/helpers.ts";

const receiver = startSink();
afterAll(() => receiver.stop());
const COMPAT = parseConfig(null, {}).compat;
const docs = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

test("a SchedulerX job's failEnable alarm reaches the alarm URL, its contacts in the document", async () => {
  const env = await testEnv({
    start: true,
    config: { executors: withProcesses(), scheduler: { pollInterval: 200 }, compat: { ...COMPAT, schedulerxAlarmUrl: `${receiver.url}/sx` }, notify: { minInterval: 0, namespaces: {} } },
  });
  try {
    const contacts = [{ userPhone: "13800000000", userName: "ops" }];
    const made = await sx(env, "/openapi/v1/job/create", { ...NS, jobType: "shell", content: "exit 3", name: "alarmed", executeMode: "standalone", timeType: 100, failEnable: true, contactInfo: contacts }, "json");
    expect(made.body.success).toBe(true);
    const jobId = made.body.data.jobId ?? made.body.data;
    const native = (await env.call("GET", `/api/v1/namespaces/${encodeURIComponent(`${NS.namespace}:${NS.groupId}`)}/jobs`)).body.items[0];
    expect(native.notify).toEqual([{ on: ["failure", "retries_exhausted"], http: { url: `${receiver.url}/sx` }, data: { api: "schedulerx", sendChannel: "sms", contacts } }]);
    await sx(env, "/openapi/v1/job/execute", { ...NS, jobId }, "json");
    await waitUntil(() => docs("/sx").length >= 1, "the alarm");
    expect(docs("/sx")[0]).toMatchObject({ event: "failure", namespace: `${NS.namespace}:${NS.groupId}`, status: "failed", data: { api: "schedulerx", contacts } });
    // Alarms off: the notification goes.
    await sx(env, "/openapi/v1/job/update", { ...NS, jobId, failEnable: false }, "json");
    expect((await env.call("GET", `/api/v1/namespaces/${encodeURIComponent(`${NS.namespace}:${NS.groupId}`)}/jobs`)).body.items[0].notify).toEqual([]);
  } finally {
    await env.close();
  }
});

test("jobs made through the Alauda API notify the facade's URL of their failures", async () => {
  const env = await testEnv({
    start: true,
    config: {
      executors: withProcesses({}, { container: { cli: "/bin/false", runArgs: [] } }),
      scheduler: { pollInterval: 200 },
      compat: { ...COMPAT, alaudaNotifyUrl: `${receiver.url}/alauda` },
      notify: { minInterval: 0, namespaces: {} },
    },
  });
  try {
    const job = (await env.call("POST", "/v1/jobs", { name: "nightly", namespace: "team", command: "true", docker_image_repo: "alpine" })).body;
    expect((await env.call("POST", `/v1/jobs/${job.id}/execs`)).status).toBeLessThan(300);
    await waitUntil(() => docs("/alauda").length >= 1, "the notification");
    expect(docs("/alauda")[0]).toMatchObject({ event: "failure", namespace: "team", status: "failed", data: { api: "alauda" } });
  } finally {
    await env.close();
  }
});
