// deploy/tock-alerts.yml: Prometheus accepts the rules (promtool check rules), they fire for the node that
// misbehaves and for no other (promtool test rules, tests/deploy/tock-alerts.test.yml), and every metric
// they name is one tock exports.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, testEnv } from "../helpers.ts";
import { promtool } from "../prometheus.ts";

const RULES = join(import.meta.dir, "../../deploy/tock-alerts.yml");
const CASES = join(import.meta.dir, "tock-alerts.test.yml");
const { dir, cleanup } = tempDir("tock-alerts-");
afterAll(cleanup);

test("promtool accepts the rules", () => {
  const r = promtool(["check", "rules", RULES]);
  expect(r.out).toContain("SUCCESS: 6 rules found");
  expect(r.status).toBe(0);
});

test("each alert fires for the node that misbehaves, when it should, and for no other", () => {
  const r = promtool(["test", "rules", CASES]);
  expect(r.out).toContain("SUCCESS");
  expect(r.status).toBe(0);
  // And the cases do judge the rules: a rule made blind to two failed runs fails them.
  writeFileSync(join(dir, "rules.yml"), readFileSync(RULES, "utf8").replace('{status=~"failed|timed_out"}[10m])) > 0', '{status=~"failed|timed_out"}[10m])) > 5'));
  writeFileSync(join(dir, "cases.yml"), readFileSync(CASES, "utf8").replace("../../deploy/tock-alerts.yml", "rules.yml"));
  const broken = promtool(["test", "rules", join(dir, "cases.yml")]);
  expect(broken.status).not.toBe(0);
  expect(broken.out).toContain("alertname: TockRunsFailing");
});

test("every tock metric the rules name is one /metrics exports", async () => {
  const named = new Set([...readFileSync(RULES, "utf8").matchAll(/\btock_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, "")));
  expect(named.size).toBeGreaterThanOrEqual(5);
  const e = await testEnv();
  try {
    const text = String((await e.call("GET", "/metrics")).body);
    expect([...named].filter((name) => !text.includes(`# TYPE ${name} `))).toEqual([]);
  } finally {
    await e.close();
  }
});
