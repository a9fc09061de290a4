// The one place Bun and Deno differ for tock: starting an HTTP server.
export interface Server {
  port: number;
  hostname: string;
  stop(): Promise<void>;
}

type Fetch = (req: Request) => Response | Promise<Response>;

declare const Deno: {
  serve(opts: { port: number; hostname: string; onListen?: (a: { port: number; hostname: string }) => void }, h: Fetch): {
    addr: { port: number; hostname: string };
    shutdown(): Promise<void>;
  };
};

export const runtimeName: "bun" | "deno" = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";

export function serve(opts: { port: number; hostname: string; maxBody: number }, fetch: Fetch): Server {
  if (runtimeName === "bun") {
    const server = Bun.serve({ port: opts.port, hostname: opts.hostname, fetch, maxRequestBodySize: opts.maxBody + 1024, idleTimeout: 60 });
    return { port: server.port!, hostname: opts.hostname, stop: () => server.stop(true) };
  }
  const server = Deno.serve({ port: opts.port, hostname: opts.hostname, onListen: () => {} }, fetch);
  return { port: server.addr.port, hostname: server.addr.hostname, stop: () => server.shutdown() };
}
