// Egress at creation: a job whose HTTP URL or TCP address is a literal address its namespace may not reach,
// or a host name on a deny list, is a 400 naming the field, through the native API, and nothing is stored.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type TestEnv, testEnv } from "../helpers.ts";

const put = (env: TestEnv, target: unknown, ns = "default", name = "j") => env.call("PUT", `/api/v1/namespaces/${ns}/jobs/${name}`, { target });
const http = (url: string) => ({ http: { url } });
const tcp = (addr: string) => ({ tcp: { addr, body: "aGk=" } });

async function expectRefused(env: TestEnv, target: unknown, field: string, message: string | RegExp, ns = "default") {
  const r = await put(env, target, ns);
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe("invalid");
  expect(r.body.error.field).toBe(field);
  if (typeof message === "string") expect(r.body.error.message).toBe(`${field}: ${message}`);
  else expect(r.body.error.message).toMatch(message);
}

describe("the default preset", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await testEnv();
  });
  afterAll(() => env.close());

  test("cloud metadata is refused in every spelling, in URLs and TCP addresses", async () => {
    const message = "egress: 169.254.169.254 is link-local (cloud metadata), refused by the default preset";
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://0xa9fea9fe/",
      "http://2852039166/",
      "http://0251.0376.0251.0376/",
      "http://169.254.43518/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://[::ffff:169.254.169.254]:80/",
      "https://a@169.254.169.254/", // userinfo: the host is still the address
      "http://user:pass@169.254.169.254:8080/x",
    ]) {
      await expectRefused(env, http(url), "target.http.url", message);
    }
    for (const addr of ["169.254.169.254:80", "0xa9fea9fe:80", "2852039166:80", "0251.0376.0251.0376:80", "[::ffff:a9fe:a9fe]:80"]) {
      await expectRefused(env, tcp(addr), "target.tcp.addr", message);
    }
    await expectRefused(env, http("http://[fd00:ec2::254]/"), "target.http.url", /AWS IMDS over IPv6/);
    await expectRefused(env, http("http://100.100.100.200/"), "target.http.url", /Alibaba Cloud/);
    await expectRefused(env, tcp("[64:ff9b::a9fe:a9fe]:80"), "target.tcp.addr", /carries 169\.254\.169\.254/);
    await expectRefused(env, http("http://0.0.0.0:8080/"), "target.http.url", /unspecified/);
    await expectRefused(env, http("http://[::]:8080/"), "target.http.url", /unspecified/);
    expect((await env.call("GET", "/api/v1/namespaces/default/jobs")).body.items).toEqual([]);
  });

  test("loopback and private addresses are allowed (on-prem callbacks)", async () => {
    for (const url of ["http://127.0.0.1:9000/hook", "http://127.1:9000/", "http://[::1]:9000/", "http://10.0.0.5/", "http://localhost:9000/"]) {
      expect((await put(env, http(url))).status).toBeLessThan(300);
    }
    expect((await put(env, tcp("127.1:7000"))).status).toBeLessThan(300);
  });

  test("a name that only looks like the address is judged when it is resolved, not here", async () => {
    // The host of this URL is example.com; the userinfo is not where it connects.
    expect((await put(env, http("http://169.254.169.254@example.com/"))).status).toBeLessThan(300);
  });

  test("other schemes are refused by the schema", async () => {
    for (const url of ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://169.254.169.254/", "dict://127.0.0.1:11211/", "ws://127.0.0.1/", "javascript:alert(1)"]) {
      const r = await put(env, http(url));
      expect(r.status).toBe(400);
      expect(r.body.error.field).toBe("target.http.url");
    }
  });
});

describe("public-only, deny, allow and namespaces", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await testEnv({
      config: {
        egress: {
          preset: "default",
          allow: ["10.1.0.0/16"],
          deny: ["10.0.0.0/8", "*.corp.example"],
          namespaces: { strict: { preset: "public-only" }, "team-a": { allow: ["api.corp.example"] } },
        },
      },
    });
  });
  afterAll(() => env.close());

  test("a namespace on public-only is refused loopback in every spelling; others are not", async () => {
    const message = "egress: 127.0.0.1 is loopback, refused by the public-only preset of [egress.namespaces.strict]";
    for (const url of ["http://127.0.0.1/", "http://127.1/", "http://0x7f.1/", "http://2130706433/", "http://0177.0.0.1/", "http://[::ffff:7f00:1]/", "http://[::ffff:127.0.0.1]/"]) {
      await expectRefused(env, http(url), "target.http.url", message, "strict");
    }
    for (const addr of ["127.1:80", "0x7f.1:80", "2130706433:80", "0177.0.0.1:80", "[::ffff:127.0.0.1]:80"]) {
      await expectRefused(env, tcp(addr), "target.tcp.addr", message, "strict");
    }
    await expectRefused(env, http("http://[::1]/"), "target.http.url", /::1 is loopback/, "strict");
    await expectRefused(env, http("http://192.168.1.1/"), "target.http.url", /private \(RFC 1918\)/, "strict");
    await expectRefused(env, http("http://100.64.1.1/"), "target.http.url", /CGNAT/, "strict");
    await expectRefused(env, http("http://[fd00::1]/"), "target.http.url", /unique-local/, "strict");
    expect((await put(env, http("http://127.0.0.1/"), "default")).status).toBeLessThan(300);
  });

  test("deny names the rule; allow beats it", async () => {
    await expectRefused(env, http("http://10.2.3.4/"), "target.http.url", 'egress: 10.2.3.4 is refused by [egress] deny "10.0.0.0/8"');
    await expectRefused(env, tcp("api.corp.example:443"), "target.tcp.addr", 'egress: api.corp.example is refused by [egress] deny "*.corp.example"');
    await expectRefused(env, http("https://API.corp.example./"), "target.http.url", /refused by \[egress\] deny "\*\.corp\.example"/);
    expect((await put(env, http("http://10.1.3.4/"))).status).toBeLessThan(300);
    // team-a's own allow list replaces the global one: the name is allowed there, 10.1.x no longer is.
    expect((await put(env, http("https://api.corp.example/"), "team-a")).status).toBeLessThan(300);
    await expectRefused(env, http("http://10.1.3.4/"), "target.http.url", 'egress: 10.1.3.4 is refused by [egress] deny "10.0.0.0/8"', "team-a");
  });
});
