// `tock check-config`: says which file it read (or that none was), and --print shows the effective
// configuration with every secret masked.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { ROOT } from "./process.ts";

const { dir, cleanup } = tempDir("tock-check-");
afterAll(cleanup);

const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(ROOT, "src/main.ts"), "check-config", ...args], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir, ...env } });

test("names the file it read, or says none was; --print shows the effective values with secrets masked", () => {
  const file = join(dir, "cfg.toml");
  writeFileSync(file, '[scheduler]\nlease = "40s"\n[database]\nauth_token = "s3cr3t-token"\n');
  const printed = run(["--config", file, "--print"], { TOCK_SCHEDULER_LOOKAHEAD: "7s" });
  expect(printed.status).toBe(0);
  expect(printed.stdout.split("\n")[0]).toBe(`configuration is valid (read ${file}, with the TOCK_* environment and flags over it)`);
  const effective = JSON.parse(printed.stdout.slice(printed.stdout.indexOf("\n") + 1));
  expect(effective.scheduler).toMatchObject({ lease: 40_000, lookahead: 7_000 });
  expect(effective.database.authToken).toBe("***");
  expect(printed.stdout).not.toContain("s3cr3t-token");

  const none = run([], {});
  expect(none.status).toBe(0);
  expect(none.stdout).toStartWith("configuration is valid (no file read: defaults");
  // An unknown TOCK_* variable is refused like an unknown key.
  const typo = run([], { TOCK_SCHEDULER_LEESE: "40s" });
  expect(typo.status).toBe(2);
  expect(typo.stderr).toContain("env TOCK_SCHEDULER_LEESE: unknown variable; did you mean TOCK_SCHEDULER_LEASE?");
});
