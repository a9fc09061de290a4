// Start-up against an embedded replica's primary is bounded and says what is wrong.
import { afterAll, expect, test } from "bun:test";
import { createServer } from "node:net";
import { join } from "node:path";
import { openStore } from "../../src/store/client.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-replica-");
afterAll(cleanup);

test("a sync_url that accepts connections but never answers fails start-up within the deadline", async () => {
  const silent = createServer(() => {}); // accepts, says nothing
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const port = (silent.address() as { port: number }).port;
  const t0 = Date.now();
  const err = await openStore({ url: `file:${join(dir, "r1.db")}`, syncUrl: `http://127.0.0.1:${port}` }, { connectTimeoutMs: 300 }).catch((e) => e);
  expect(String(err.message)).toBe(`database sync_url http://127.0.0.1:${port} did not answer within 0.3s`);
  expect(Date.now() - t0).toBeLessThan(5_000);
  silent.close();
});

test("a sync_url that refuses connections fails start-up naming it", async () => {
  const err = await openStore({ url: `file:${join(dir, "r2.db")}`, syncUrl: "http://127.0.0.1:1" }, { connectTimeoutMs: 2_000 }).catch((e) => e);
  expect(String(err.message)).toStartWith("database sync_url http://127.0.0.1:1 cannot be reached");
});
