// The compiled binary's entry point. The binary unpacks libSQL's native addon into the temp directory
// ($TMPDIR, else /tmp) as soon as the database driver is imported, before any of tock's own code could
// say what went wrong: so the directory is checked first, and the CLI (main.ts) loaded only then. A
// missing, read-only or noexec temp directory is one line naming the setting that fixes it.
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";

/** Why the binary cannot unpack and load its addon in `dir`, or null. */
export function tempDirProblem(dir: string): string | null {
  try {
    if (!statSync(dir).isDirectory()) return "is not a directory";
  } catch {
    return "does not exist";
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return "is not writable by this user";
  }
  // A file there may be written but not executed when the file system is mounted noexec.
  let probe: string | undefined;
  try {
    probe = mkdtempSync(join(dir, "tock-probe-"));
    const file = join(probe, "probe.sh");
    writeFileSync(file, "#!/bin/sh\nexit 0\n", { mode: 0o700 });
    const r = spawnSync(file, [], { stdio: "ignore" });
    if (r.error || r.status !== 0) return "does not allow executing files (mounted noexec?)";
  } catch {
    return "is not writable by this user";
  } finally {
    if (probe) rmSync(probe, { recursive: true, force: true });
  }
  return null;
}

const dir = process.env.TMPDIR || "/tmp";
const problem = process.platform === "win32" ? null : tempDirProblem(dir);
if (problem) {
  process.stderr.write(
    `tock: the temp directory ${dir} ${problem}: the binary unpacks its database driver there at start. Set TMPDIR to a directory this user may write and execute files in (e.g. TMPDIR=/var/lib/tock/tmp).\n`,
  );
  process.exit(1);
}
await import("./main.ts");
