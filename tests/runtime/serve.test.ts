// The server on Bun: HTTPS, mutual TLS that refuses at the handshake, a Unix socket with mode 0660, and the
// transport each request came on passed to the app as its env binding.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { loadTls } from "../../src/config/tls.ts";
import { claimSocketPath } from "../../src/net/unix-socket.ts";
import { serve, type Transport } from "../../src/runtime/serve.ts";
import { makeCerts } from "../certs.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-serve-");
afterAll(cleanup);
const certs = makeCerts(dir);
const mtls = loadTls({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca })!;

/** A server answering each request with the env it was given; `seen` counts the requests the app got. */
async function start(opts: { tls?: typeof mtls; socket?: string }) {
  const seen: Transport[] = [];
  const server = await serve({ port: 0, hostname: "127.0.0.1", maxBody: 1024, ...opts }, (_req, env) => {
    seen.push(env);
    return Response.json(env);
  });
  return { server, seen };
}

// A new connection each time: a pooled one would carry an earlier handshake's client certificate.
const get = (url: string, init: BunFetchRequestInit = {}) => fetch(url, { ...init, keepalive: false });

describe("serve", () => {
  test("plain HTTP on TCP: transport tcp, no TLS", async () => {
    const { server } = await start({});
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(await (await get(`${server.url}/`)).json()).toEqual({ transport: "tcp", tls: false, clientCert: false });
    } finally {
      await server.stop();
    }
  });

  test("HTTPS: a client trusting the CA connects; one that does not, cannot", async () => {
    const { server } = await start({ tls: loadTls({ cert: certs.serverCert, key: certs.serverKey }) });
    try {
      expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
      expect(await (await get(`${server.url}/`, { tls: { ca: certs.pem.ca } })).json()).toEqual({ transport: "tcp", tls: true, clientCert: false });
      expect(await (await get(`https://localhost:${server.port}/`, { tls: { ca: certs.pem.ca } })).json()).toMatchObject({ tls: true });
      await expect(get(`${server.url}/`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });

  test("mutual TLS: without a client certificate or with a rogue one the handshake fails and the app sees nothing", async () => {
    const { server, seen } = await start({ tls: mtls });
    try {
      await expect(get(`${server.url}/`, { tls: { ca: certs.pem.ca } })).rejects.toThrow();
      await expect(get(`${server.url}/`, { tls: { ca: certs.pem.ca, ...certs.pem.rogue } })).rejects.toThrow();
      expect(seen).toEqual([]);
      const res = await get(`${server.url}/`, { tls: { ca: certs.pem.ca, ...certs.pem.client } });
      expect(await res.json()).toEqual({ transport: "tcp", tls: true, clientCert: true });
      expect(seen).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  test("a Unix socket as well: mode 0660, transport unix, removed at stop; the umask is left as it was", async () => {
    const socket = join(dir, "both.sock");
    const umask = process.umask();
    const { server } = await start({ tls: mtls, socket });
    try {
      expect(process.umask()).toBe(umask);
      expect(lstatSync(socket).isSocket()).toBe(true);
      expect(statSync(socket).mode & 0o777).toBe(0o660);
      expect(server.socket).toBe(socket);
      expect(await (await get("http://localhost/", { unix: socket })).json()).toEqual({ transport: "unix", tls: false, clientCert: false });
      // TCP still wants its client certificate.
      await expect(get(`${server.url}/`, { tls: { ca: certs.pem.ca } })).rejects.toThrow();
    } finally {
      await server.stop();
    }
    expect(existsSync(socket)).toBe(false);
  });

  test("a socket another server listens on is refused, and that server keeps it", async () => {
    const socket = join(dir, "taken.sock");
    const first = await start({ socket });
    try {
      await expect(start({ socket })).rejects.toThrow(`server.socket: something is listening on ${socket}`);
      expect((await get("http://localhost/", { unix: socket })).status).toBe(200);
    } finally {
      await first.server.stop();
    }
  });
});

describe("claimSocketPath", () => {
  test("an absent path is free", async () => {
    await claimSocketPath(join(dir, "absent.sock"));
  });

  test("a socket left by a killed process is removed, and a new server binds it", async () => {
    const socket = join(dir, "stale.sock");
    // A real leftover: a process listening there, killed with no chance to clean up.
    const child = spawn(process.execPath, ["-e", `Bun.serve({ unix: ${JSON.stringify(socket)}, fetch: () => new Response("old") }); console.log("up")`], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    expect(lstatSync(socket).isSocket()).toBe(true);

    const { server } = await start({ socket });
    try {
      expect(await (await get("http://localhost/", { unix: socket })).json()).toMatchObject({ transport: "unix" });
    } finally {
      await server.stop();
    }
  });

  test("a file that is not a socket is never replaced", async () => {
    const path = join(dir, "data.txt");
    writeFileSync(path, "precious");
    await expect(claimSocketPath(path)).rejects.toThrow(`server.socket: ${path} exists and is not a socket; tock does not replace it`);
    expect(existsSync(path)).toBe(true);
  });
});
