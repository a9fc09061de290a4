// The floor: a bare Bun fetch client in its own process. Usage: flood.ts <url> <n> <concurrency> <at>
// Warms `concurrency` keep-alive connections to the sink (GET /__warm, not recorded; skipped when a fifth
// argument "cold" is given, for diagnosis), waits until epoch ms
// `at` (0: start at once), then sends `n` POSTs with `concurrency` in flight, each with a distinct
// webhook-id and a webhook-timestamp like tock's, and prints one JSON line.
const [url, nText, cText, atText, mode] = process.argv.slice(2);
const n = Number(nText);
const concurrency = Number(cText);
const at = Number(atText);
const origin = new URL(url).origin;

const w0 = performance.now();
// Two rounds so every connection of the pool has been opened and reused once.
for (let round = 0; round < (mode === "cold" ? 0 : 2); round++) {
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, () => fetch(`${origin}/__warm`).then((r) => r.text())));
}
const warmMs = performance.now() - w0;

if (at > 0) {
  const wait = at - Date.now() - 3;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  while (Date.now() < at) {
    // spin the last few ms: a timer may fire late, never early enough to matter here
  }
}
const startedAt = performance.timeOrigin + performance.now();
const ts = String(Math.floor((at || Date.now()) / 1000));
let ok = 0;
let errors = 0;
let next = 0;
const worker = async () => {
  while (next < n) {
    const i = next++;
    try {
      const res = await fetch(url, { method: "POST", headers: { "webhook-id": `floor-${i}`, "webhook-timestamp": ts, "user-agent": "flood" } });
      await res.text();
      if (res.ok) ok++;
      else errors++;
    } catch {
      errors++;
    }
  }
};
await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
const endedAt = performance.timeOrigin + performance.now();
console.log(
  JSON.stringify({
    n,
    concurrency,
    ok,
    errors,
    startedAt,
    endedAt,
    rate: Math.round((n / (endedAt - startedAt)) * 1000),
    startLagMs: at > 0 ? Math.round((startedAt - at) * 100) / 100 : 0,
    warmMs: Math.round(warmMs),
  }),
);
process.exit(0);

export {};
