// `npm run build`: one self-contained executable (default src/bin.ts, the CLI behind a temp-directory check -> dist/tock).
//
//   bun scripts/build.ts [--entry <file>] [--out <file>] [--libsql-target <name>]
//
// 1. Regenerates src/store/migrations.gen.ts from drizzle/ so the binary carries current migrations.
// 2. Bun.build with compile + bytecode (ESM) and a plugin for libsql's native addon: libsql/index.js
//    loads it with a dynamic require(`@libsql/${target}`) that the bundler cannot follow, so the
//    compiled binary would fail at start with "Cannot find module '@libsql/linux-x64-gnu'"
//    (measured with bun 1.4 and libsql 0.5). The plugin rewrites that one call into a static require of the addon package for
//    this platform, and fails the build loudly if the call is not there (e.g. after a libsql upgrade).
// The binary extracts the addon to $TMPDIR at start, so it needs a writable temp dir.
import type { BunPlugin } from "bun";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function fail(msg: string): never {
  console.error(`\nBUILD FAILED: ${msg}\n`);
  process.exit(1);
}

function argValue(name: string): string | undefined {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(name);
  if (i !== -1) {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) fail(`${name} needs a value`);
    return v;
  }
  const eq = argv.find((a) => a.startsWith(`${name}=`));
  return eq?.slice(name.length + 1);
}
{
  const known = new Set(["--entry", "--out", "--libsql-target"]);
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.split("=")[0]!;
    if (!known.has(name)) fail(`unknown argument ${a} (usage: bun scripts/build.ts [--entry f] [--out f] [--libsql-target t])`);
    if (!a.includes("=")) i++;
  }
}

/** Modules the binary starts as Workers (threads): each an entry point of its own. */
const WORKERS = ["src/store/checkpoint-worker.ts"];

// src/bin.ts checks the temp directory the binary unpacks its addon into, then loads src/main.ts.
const entry = resolve(argValue("--entry") ?? join(root, "src/bin.ts"));
const outfile = resolve(argValue("--out") ?? join(root, "dist/tock"));
if (!existsSync(entry)) fail(`entry point ${entry} does not exist`);

/** The @libsql/<target> addon package for the machine that builds (and so runs) the binary. */
function libsqlTarget(): string {
  const override = argValue("--libsql-target");
  if (override) return override;
  const { platform, arch } = process;
  if (platform === "linux") {
    // libsql's own logic prefers glibc whenever the system has it (Bun misreports musl otherwise).
    const glibc = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux-armhf.so.3"].some(existsSync);
    const musl = !glibc && readdirSafe("/lib").some((f) => f.startsWith("ld-musl-"));
    const abi = musl ? "musl" : "gnu";
    if (arch === "x64" || arch === "arm64") return `linux-${arch}-${abi}`;
    if (arch === "arm") return musl ? "linux-arm-musleabihf" : "linux-arm-gnueabihf";
  }
  if (platform === "darwin" && (arch === "x64" || arch === "arm64")) return `darwin-${arch}`;
  if (platform === "win32" && (arch === "x64" || arch === "arm64")) return `win32-${arch}-msvc`;
  return fail(`no libsql addon known for ${platform}-${arch}; pass --libsql-target`);
}
function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const addonPkg = `@libsql/${libsqlTarget()}`;
// The addon package must be installed where libsql/index.js will resolve it from.
const libsqlIndex = (() => {
  try {
    const clientReq = createRequire(createRequire(join(root, "package.json")).resolve("@libsql/client"));
    return clientReq.resolve("libsql");
  } catch (e) {
    return fail(`cannot resolve libsql from @libsql/client: ${(e as Error).message}`);
  }
})();
try {
  createRequire(libsqlIndex).resolve(addonPkg);
} catch {
  fail(`${addonPkg} is not installed (needed next to ${relative(root, libsqlIndex)}); run npm install on this platform`);
}

const DYNAMIC_REQUIRE = "require(`@libsql/${target}`)";
let libsqlPatched = 0;

const libsqlStaticAddon: BunPlugin = {
  name: "libsql-static-addon",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]libsql[\\/]index\.js$/ }, async (args) => {
      const src = await Bun.file(args.path).text();
      const count = src.split(DYNAMIC_REQUIRE).length - 1;
      if (count !== 1) {
        fail(
          `${args.path}: expected exactly one ${DYNAMIC_REQUIRE}, found ${count}. libsql changed how it ` +
            "loads its native addon; update the libsql plugin in scripts/build.ts.",
        );
      }
      libsqlPatched++;
      return { contents: src.replace(DYNAMIC_REQUIRE, `require(${JSON.stringify(addonPkg)})`), loader: "js" };
    });
  },
};

// 1. migrations
console.log("embedding migrations…");
const gen = spawnSync(process.execPath, [join(root, "scripts/embed-migrations.ts")], { stdio: "inherit", cwd: root });
if (gen.status !== 0) fail("scripts/embed-migrations.ts failed");

// 2. the executable
console.log(`building ${relative(process.cwd(), entry) || entry} -> ${outfile} (libsql addon ${addonPkg})…`);
mkdirSync(dirname(outfile), { recursive: true });
const started = performance.now();
let result: Awaited<ReturnType<typeof Bun.build>>;
try {
  result = await Bun.build({
    // The checkpoint thread's module is an entry point of its own: the binary starts it as a Worker, by a
    // URL relative to the module that starts it, which in the binary is the bundle: so every entry point
    // is put at the bundle's root ("[name]"), where that URL finds it.
    entrypoints: [entry, ...WORKERS.map((w) => join(root, w))],
    naming: { entry: "[name].[ext]" },
    compile: { outfile },
    target: "bun",
    format: "esm",
    minify: true,
    bytecode: true,
    // Embedded in the executable: stack traces name src/… lines (+~130 KB). Bun also writes
    // <outfile>.map, which the binary does not need; it is removed below.
    sourcemap: "linked",
    plugins: [libsqlStaticAddon],
  });
} catch (e) {
  // Bun.build throws an AggregateError of build messages on failure.
  const errors = (e as { errors?: unknown[] }).errors;
  if (Array.isArray(errors)) for (const err of errors) console.error(err);
  fail(`Bun.build: ${(e as Error).message}`);
}
if (!result.success) {
  for (const log of result.logs) console.error(log);
  fail("Bun.build reported failure");
}
for (const log of result.logs) console.warn(log);
if (libsqlPatched !== 1) {
  fail(
    `the libsql plugin patched ${libsqlPatched} files (expected 1): the bundle does not contain ` +
      "node_modules/libsql/index.js where expected, so the binary could not open a database.",
  );
}
if (!existsSync(outfile)) fail(`Bun.build succeeded but ${outfile} is missing`);

rmSync(`${outfile}.map`, { force: true });
for (const w of WORKERS) rmSync(join(dirname(outfile), `${w.replace(/^.*\//, "").replace(/\.ts$/, "")}.js.map`), { force: true });

const bytes = statSync(outfile).size;
const secs = ((performance.now() - started) / 1000).toFixed(1);
console.log(`built ${outfile}: ${(bytes / 1024 / 1024).toFixed(1)} MB (${bytes} bytes) in ${secs}s`);
