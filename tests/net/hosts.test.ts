// The per-host limit counts the address a run goes to, not how its host is spelled: 127.0.0.1, 127.1,
// 0x7f.1, 2130706433, [::ffff:127.0.0.1] and a name resolving to 127.0.0.1 share one max_in_flight_per_host.
import { expect, test } from "bun:test";
import { createServer, type Socket } from "node:net";
import { putJob, triggerJob } from "../../src/domain/jobs.ts";
import { hostOf } from "../../src/scheduler/claim.ts";
import { read } from "../../src/store/sql.ts";
import { mapResolver, startSink, type TestEnv, testEnv, waitUntil } from "../helpers.ts";

const LIMIT = 2;
const resolver = mapResolver({ localhost: ["127.0.0.1"], "loop.test": ["127.0.0.1"] });

test("the key of a target is its canonical address and port, or its name", () => {
  expect(hostOf("http", { url: "http://127.1:8080/x" }).host).toBe("127.0.0.1:8080");
  expect(hostOf("http", { url: "http://0x7f.1/" }).host).toBe("127.0.0.1:80");
  expect(hostOf("http", { url: "https://[::ffff:7f00:1]/" }).host).toBe("127.0.0.1:443");
  expect(hostOf("http", { url: "http://[0:0::1]:81/" }).host).toBe("[::1]:81");
  expect(hostOf("http", { url: "http://API.Example.com.:81/" })).toEqual({ host: "api.example.com:81", resolve: { name: "api.example.com", port: 81 } });
  expect(hostOf("tcp", { addr: "2130706433:7000" }).host).toBe("127.0.0.1:7000");
  expect(hostOf("tcp", { addr: "0177.0.0.1:7000" }).host).toBe("127.0.0.1:7000");
  expect(hostOf("tcp", { addr: "[::ffff:127.0.0.1]:7000" }).host).toBe("127.0.0.1:7000");
  expect(hostOf("tcp", { addr: "LocalHost:7000" })).toEqual({ host: "localhost:7000", resolve: { name: "localhost", port: 7000 } });
  expect(hostOf("process", null).host).toBe("local");
});

/** Starts every job once, waits until each run is executing or waiting for its host, and checks the limit held. */
async function expectOneLimit(env: TestEnv, names: string[], open: () => number, release: () => void) {
  for (const name of names) await triggerJob(env.deps, "ns", name);
  await env.deps.scheduler.tick();
  const s = () => env.deps.scheduler.stats;
  // Held until released: nothing more can start before that, so this state is stable.
  await waitUntil(() => s().inFlight + s().parked === names.length && open() === s().inFlight, `every run executing (${s().inFlight}) or parked (${s().parked})`);
  expect(s().inFlight).toBe(LIMIT);
  expect(s().parked).toBe(names.length - LIMIT);
  release();
  await env.deps.scheduler.idle();
  const runs = await read(env.deps.store, "SELECT status, error FROM runs");
  expect(runs.map((r) => `${r.status} ${r.error ?? ""}`)).toEqual(names.map(() => "succeeded "));
}

test("HTTP: every spelling of one address, and a name resolving to it, share one limit", async () => {
  let gate!: () => void;
  const opened = new Promise<void>((r) => (gate = r));
  let open = 0;
  const sink = startSink(async () => {
    open++;
    await opened;
    open--;
    return new Response("ok");
  });
  const env = await testEnv({ resolver, config: { scheduler: { maxInFlightPerHost: LIMIT, maxInFlight: 100 } }, start: true });
  try {
    const port = new URL(sink.url).port;
    const hosts = ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:7f00:1]", "[::ffff:127.0.0.1]", "localhost", "loop.test", "LOOP.test"];
    const names = hosts.map((_, i) => `h${i}`);
    for (const [i, host] of hosts.entries()) await putJob(env.deps, "ns", names[i], { target: { http: { url: `http://${host}:${port}/` } } });
    await expectOneLimit(env, names, () => open, () => gate());
    expect(sink.requests).toHaveLength(hosts.length);
  } finally {
    await env.close();
    sink.stop();
  }
});

test("TCP: every spelling of one address, and a name resolving to it, share one limit", async () => {
  const held = new Set<Socket>();
  let released = false;
  const answer = (s: Socket) => s.end("ok");
  const server = createServer((s) => {
    s.on("error", () => {});
    s.once("data", () => {
      if (released) answer(s);
      else held.add(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const env = await testEnv({ resolver, config: { scheduler: { maxInFlightPerHost: LIMIT, maxInFlight: 100 } }, start: true });
  try {
    const hosts = ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "0x7f000001", "[::ffff:127.0.0.1]", "localhost", "loop.test"];
    const names = hosts.map((_, i) => `t${i}`);
    const ok = Buffer.from("ok").toString("base64");
    for (const [i, host] of hosts.entries()) await putJob(env.deps, "ns", names[i], { target: { tcp: { addr: `${host}:${port}`, body: ok, ack: ok } } });
    await expectOneLimit(env, names, () => held.size, () => {
      released = true;
      for (const s of held) answer(s);
    });
  } finally {
    await env.close();
    await new Promise((r) => server.close(r));
  }
});
