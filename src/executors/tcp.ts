// TCP callbacks: connect, write the body, then read until the ack's length has arrived, the peer closes
// or the attempt is aborted. Success is the received bytes equal to the ack (no ack: once written).
import { connect } from "node:net";
import type { TcpTarget } from "../domain/schemas.ts";
import type { ExecRequest, Executor, Outcome } from "./types.ts";

export interface TcpExecutorOptions {
  connectTimeoutMs: number;
  maxResponseBytes: number;
}

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(addr.slice(i + 1)) };
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export function createTcpExecutor(opts: TcpExecutorOptions): Executor {
  return {
    execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as TcpTarget;
      const body = Buffer.from(target.body, "base64");
      const ack = target.ack !== undefined ? Buffer.from(target.ack, "base64") : null;
      const { host, port } = splitAddr(target.addr);
      return new Promise<Outcome>((resolve) => {
        const received: Buffer[] = [];
        let size = 0;
        let settled = false;
        const socket = connect({ host, port });
        const connectTimer = setTimeout(() => finish({ status: "failed", error: `connect to ${target.addr} timed out` }), opts.connectTimeoutMs);
        const finish = (o: Outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(connectTimer);
          signal.removeEventListener("abort", onAbort);
          socket.destroy();
          const got = Buffer.concat(received);
          resolve({ ...o, result: { bytesWritten: body.length, received: b64(got), ...o.result } });
        };
        const onAbort = () => finish({ status: "failed", error: "aborted" });
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        socket.on("connect", () => {
          clearTimeout(connectTimer);
          socket.write(body, (err) => {
            if (err) return finish({ status: "failed", error: `write failed: ${err.message}` });
            if (!ack) {
              socket.end();
              finish({ status: "succeeded" });
            }
          });
        });
        const judge = () => {
          const got = Buffer.concat(received).subarray(0, ack!.length);
          if (got.equals(ack!)) finish({ status: "succeeded" });
          else finish({ status: "failed", error: `ack mismatch: expected ${b64(ack!)}, received ${b64(got)}` });
        };
        socket.on("data", (chunk: Buffer) => {
          if (size < opts.maxResponseBytes) received.push(chunk.subarray(0, opts.maxResponseBytes - size));
          size += chunk.length;
          if (ack && size >= ack.length) judge();
        });
        socket.on("end", () => {
          if (ack) judge();
        });
        socket.on("error", (err) => finish({ status: "failed", error: `${err.message}` }));
        socket.on("close", () => {
          if (ack) judge();
        });
      });
    },
  };
}
