// The binary unpacks libSQL's addon into $TMPDIR as it starts: a temp directory it cannot use is one line
// naming the setting that fixes it, for every command (no stack trace), and a usable one just works.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers.ts";
import { buildBinary } from "./process.ts";

const { dir, cleanup } = tempDir("tock-tmpdir-");
const noexec = join(dir, "noexec");
let mounted = false;
afterAll(() => {
  if (mounted) spawnSync("umount", [noexec]);
  cleanup();
});

const bin = buildBinary(join(dir, "bin"));
const run = (tmp: string, ...args: string[]) =>
  spawnSync(bin, args, { cwd: join(dir, "bin"), encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: dir, TMPDIR: tmp }, timeout: 30_000 });

const refused = (r: ReturnType<typeof run>, tmp: string, why: string) => {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(`tock: the temp directory ${tmp} ${why}: the binary unpacks its database driver there at start. Set TMPDIR to a directory this user may write and execute files in (e.g. TMPDIR=/var/lib/tock/tmp).\n`);
};

test("a missing temp directory, or a file in its place: one line naming TMPDIR, for any command", () => {
  const missing = join(dir, "missing");
  for (const args of [["version"], ["check-config"], ["serve"]]) refused(run(missing, ...args), missing, "does not exist");
  const file = join(dir, "a-file");
  writeFileSync(file, "x");
  refused(run(file, "version"), file, "is not a directory");
});

test("a temp directory mounted noexec is named as such", () => {
  mkdirSync(noexec, { recursive: true });
  mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "noexec,size=1m", "tmpfs", noexec]).status === 0;
  if (!mounted) {
    // Mounting needs root (CI runs as root); elsewhere this case cannot be set up.
    console.warn("tempdir.test: cannot mount a noexec tmpfs here; the noexec case is not checked");
    return;
  }
  refused(run(noexec, "version"), noexec, "does not allow executing files (mounted noexec?)");
});

test("a usable temp directory: the binary runs", () => {
  const ok = join(dir, "tmp");
  mkdirSync(ok);
  const r = run(ok, "version");
  expect(r.status).toBe(0);
  expect(r.stdout).toStartWith("tock ");
});
