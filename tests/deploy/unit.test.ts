// deploy/tock.service: a unit systemd accepts as it is (systemd-analyze verify: no error, no warning), with
// the hardening and the writable, executable temp directory the binary needs.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-unit-");
afterAll(cleanup);
const unit = readFileSync(join(import.meta.dir, "../../deploy/tock.service"), "utf8");

test("systemd-analyze verify accepts the unit without a warning", () => {
  // verify checks that ExecStart's program exists: the runtime running this test stands in for the binary.
  const path = join(dir, "tock.service");
  writeFileSync(path, unit.replace("ExecStart=/usr/local/bin/tock", `ExecStart=${process.execPath}`));
  const r = spawnSync("systemd-analyze", ["verify", path], { encoding: "utf8" });
  expect(r.error).toBeUndefined(); // installed (CI installs it)
  expect(r.stderr.trim()).toBe("");
  expect(r.status).toBe(0);
  // And it does report a broken one: a misspelt key is a warning.
  const bad = join(dir, "bad.service");
  writeFileSync(bad, unit.replace("ExecStart=/usr/local/bin/tock", `ExecStart=${process.execPath}`).replace("NoNewPrivileges=yes", "NoNewPrivilegs=yes"));
  expect(spawnSync("systemd-analyze", ["verify", bad], { encoding: "utf8" }).stderr).toContain("Unknown key 'NoNewPrivilegs'");
});

test("it runs as its own user in a read-only system, with its state and an executable temp directory of its own", () => {
  const lines = new Set(unit.split("\n").map((l) => l.trim()));
  for (const line of [
    "DynamicUser=yes",
    "StateDirectory=tock tock/tmp",
    "Environment=TMPDIR=/var/lib/tock/tmp",
    "Environment=TOCK_DATABASE_URL=file:/var/lib/tock/tock.db",
    "ProtectSystem=strict",
    "NoNewPrivileges=yes",
    "Restart=on-failure",
    "KillMode=mixed",
  ]) {
    expect(lines.has(line)).toBe(true);
  }
  // The stop timeout leaves room for the shutdown grace (30 s) of runs in flight.
  expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1])).toBeGreaterThan(30);
});
