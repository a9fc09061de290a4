// `npm test`: runs `bun test` (extra arguments passed through, e.g. a path filter or `--bail`) with
// the same bun binary, streams its output unchanged, and ends with the line CI recognises:
//
//   N passed, N failed
//
// Exit code: bun's own; non-zero as well when no test ran, or when the counts show failures.
// bun prints its summary (" N pass", " N fail") on stderr; both streams are scanned.
import { spawn } from "node:child_process";

const args = ["test", ...process.argv.slice(2)];
const env = { ...process.env };
// bun only colours a TTY; its stderr is our pipe, so keep the colours the user would have seen.
if (process.stderr.isTTY && env.NO_COLOR === undefined && env.FORCE_COLOR === undefined) env.FORCE_COLOR = "1";

const child = spawn(process.execPath, args, { stdio: ["inherit", "pipe", "pipe"], env });

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
let summaryPass: number | null = null;
let summaryFail: number | null = null;
let linesPass = 0; // fallback when bun dies before its summary
let linesFail = 0;

function scan(line: string): void {
  const l = line.replace(ANSI, "").replace(/\r$/, "");
  let m: RegExpMatchArray | null;
  if ((m = l.match(/^\s*(\d+) pass$/))) summaryPass = Number(m[1]);
  else if ((m = l.match(/^\s*(\d+) fail$/))) summaryFail = Number(m[1]);
  else if (/^\s*(\(pass\)|✓) /.test(l)) linesPass++;
  else if (/^\s*(\(fail\)|✗) /.test(l)) linesFail++;
}

function pipeAndScan(from: NodeJS.ReadableStream, to: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    let partial = "";
    from.setEncoding("utf8");
    from.on("data", (chunk: string) => {
      to.write(chunk);
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) scan(line);
    });
    from.on("end", () => {
      if (partial) scan(partial);
      resolve();
    });
  });
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => child.kill(sig));
}

const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
const exited = new Promise<number>((resolve) =>
  child.on("close", (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1))),
);
function signalNumber(sig: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[sig];
}

const outcome = await Promise.race([
  Promise.all([pipeAndScan(child.stdout!, process.stdout), pipeAndScan(child.stderr!, process.stderr), exited]).then(
    ([, , code]) => code,
  ),
  spawnError.then((e) => {
    process.stderr.write(`scripts/test.ts: cannot run ${process.execPath}: ${e.message}\n`);
    return 1;
  }),
]);

const passed = summaryPass ?? linesPass;
const failed = summaryFail ?? linesFail;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);

let code = outcome;
if (code === 0 && passed + failed === 0) {
  process.stderr.write("scripts/test.ts: no tests ran\n");
  code = 1;
}
if (code === 0 && failed > 0) code = 1;
process.exit(code);
