// The one place Bun and Deno differ for tock: starting the HTTP server, on TCP (over TLS when configured,
// mutual TLS on Bun only) and on a Unix socket.
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import process from "node:process";
import { ConfigError } from "../config.ts";
import type { TlsMaterial } from "../config/tls.ts";
import { claimSocketPath } from "../net/unix-socket.ts";

/**
 * What the app learns of the connection a request came on, as Hono's env binding (`c.env`). A Unix socket
 * is reached through the file system only, never by a browser, so checks against web pages (Host, Origin)
 * need not apply there.
 */
export interface Transport {
  transport: "tcp" | "unix";
  /** The request came over TLS. */
  tls: boolean;
  /**
   * The client presented a certificate signed by [server.tls] client_ca. With mutual TLS the handshake
   * refuses every other client, so this is true of each TLS request then, and false otherwise.
   */
  clientCert: boolean;
}

export type Fetch = (req: Request, env: Transport) => Response | Promise<Response>;

export interface ServeOptions {
  port: number;
  hostname: string;
  maxBody: number;
  tls?: TlsMaterial;
  /** Also listen on this Unix socket (plain HTTP: the file's mode 0660 decides who may connect). */
  socket?: string;
}

export interface Server {
  port: number;
  hostname: string;
  /** http://host:port, or https:// over TLS. */
  url: string;
  socket?: string;
  stop(): Promise<void>;
}

/** A listener's own handler: the app's fetch with that listener's Transport bound. */
type Handler = (req: Request) => Response | Promise<Response>;
type DenoServer = { addr: { port: number; hostname: string }; shutdown(): Promise<void> };
declare const Deno: {
  serve(
    opts:
      | { port: number; hostname: string; cert?: string; key?: string; onListen?: (a: unknown) => void }
      | { path: string; transport: "unix"; onListen?: (a: unknown) => void },
    h: Handler,
  ): DenoServer;
};

export const runtimeName: "bun" | "deno" = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";

/**
 * Refuses what this runtime cannot serve. Deno.serve takes a certificate and key but has no way to ask for
 * client certificates: serving there without them would quietly drop the mutual TLS an operator asked for.
 */
export function assertServable(opts: { tls?: TlsMaterial }): void {
  if (runtimeName === "deno" && opts.tls?.ca) {
    throw new ConfigError([
      {
        path: "server.tls.client_ca",
        message: "mutual TLS is not available on Deno (Deno.serve cannot require client certificates); run tock on Bun (the built binary or `bun src/main.ts`), or remove client_ca",
      },
    ]);
  }
}

export async function serve(opts: ServeOptions, fetch: Fetch): Promise<Server> {
  assertServable(opts);
  // One object per listener, shared by its requests: frozen, so no request can change what the next one sees.
  const tcpEnv: Transport = Object.freeze({ transport: "tcp", tls: opts.tls !== undefined, clientCert: opts.tls?.ca !== undefined });
  const unixEnv: Transport = Object.freeze({ transport: "unix", tls: false, clientCert: false });
  const tcp = runtimeName === "bun" ? bunTcp(opts, (req) => fetch(req, tcpEnv)) : denoTcp(opts, (req) => fetch(req, tcpEnv));
  let unix: (() => Promise<void>) | undefined;
  if (opts.socket) {
    try {
      unix = await listenUnix(opts.socket, (path) => (runtimeName === "bun" ? bunUnix(path, opts.maxBody, (req) => fetch(req, unixEnv)) : denoUnix(path, (req) => fetch(req, unixEnv))));
    } catch (e) {
      await tcp.stop().catch(() => {});
      throw e;
    }
  }
  const host = tcp.hostname.includes(":") ? `[${tcp.hostname}]` : tcp.hostname;
  return {
    port: tcp.port,
    hostname: tcp.hostname,
    url: `${opts.tls ? "https" : "http"}://${host}:${tcp.port}`,
    socket: opts.socket,
    stop: async () => {
      await Promise.all([tcp.stop(), unix?.()]);
    },
  };
}

type Listener = { port: number; hostname: string; stop(): Promise<void> };

function bunTcp(opts: ServeOptions, fetch: Handler): Listener {
  const tls = opts.tls && {
    cert: opts.tls.cert,
    key: opts.tls.key,
    // requestCert alone asks; rejectUnauthorized makes the handshake fail without a certificate from ca.
    ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
  const server = Bun.serve({ port: opts.port, hostname: opts.hostname, tls, fetch, maxRequestBodySize: opts.maxBody + 1024, idleTimeout: 60 });
  return { port: server.port!, hostname: opts.hostname, stop: () => server.stop(true) };
}

function denoTcp(opts: ServeOptions, fetch: Handler): Listener {
  const tls = opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {};
  const server = Deno.serve({ port: opts.port, hostname: opts.hostname, ...tls, onListen: () => {} }, fetch);
  return { port: server.addr.port, hostname: server.addr.hostname, stop: () => server.shutdown() };
}

function bunUnix(path: string, maxBody: number, fetch: Handler): () => Promise<void> {
  // Bun's types leave idleTimeout out of the unix options, but Bun applies it there too: without it the
  // default 10 s would cut a followed log stream between its 15 s keep-alives.
  const options = { unix: path, fetch, maxRequestBodySize: maxBody + 1024, idleTimeout: 60 };
  const server = Bun.serve(options as unknown as Parameters<typeof Bun.serve>[0]);
  return () => server.stop(true);
}

function denoUnix(path: string, fetch: Handler): () => Promise<void> {
  const server = Deno.serve({ path, transport: "unix", onListen: () => {} }, fetch);
  return () => server.shutdown();
}

/**
 * Binds the socket with mode 0660 from the first instant (a umask for the bind, so it is never open to
 * others, even briefly), then sets exactly 0660 (the umask can only take bits away). Returns its stop,
 * which also removes the file if it is still this server's.
 */
async function listenUnix(path: string, listen: (path: string) => () => Promise<void>): Promise<() => Promise<void>> {
  await claimSocketPath(path);
  const umask = process.umask(0o117);
  let stop: () => Promise<void>;
  try {
    stop = listen(path);
  } catch (e) {
    throw new Error(`server.socket: cannot listen on ${path}: ${(e as Error).message}`);
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o660);
  const ino = lstatSync(path).ino;
  return async () => {
    await stop();
    // Bun and Deno remove it themselves; this covers one that does not, and spares a successor's socket.
    try {
      if (lstatSync(path).ino === ino) unlinkSync(path);
    } catch {
      // already gone
    }
  };
}
