// TCP callbacks: connect, write the body, then read until the ack's length has arrived, the peer closes
// or the attempt is aborted. Success is the received bytes equal to the ack (no ack: once written). The
// host is resolved and judged by the egress policy at each attempt, and the socket connects to an address
// that was judged, never to the name.
import { connect, type Socket } from "node:net";
import { type Ip, ipText, splitHostPort } from "../net/address.ts";
import type { Egress } from "../net/egress.ts";
import type { ExecRequest, Executor, Outcome, TcpTarget } from "./types.ts";

export interface TcpExecutorOptions {
  connectTimeoutMs: number;
  maxResponseBytes: number;
  /** Where connections may go ([egress]), and how names resolve. */
  egress: Egress;
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export function createTcpExecutor(opts: TcpExecutorOptions): Executor {
  return {
    execute(req: ExecRequest, signal: AbortSignal): Promise<Outcome> {
      const target = req.target as TcpTarget;
      const body = Buffer.from(target.body, "base64");
      const ack = target.ack !== undefined ? Buffer.from(target.ack, "base64") : null;
      const { host, port } = splitHostPort(target.addr);
      return new Promise<Outcome>((resolve) => {
        const received: Buffer[] = [];
        let size = 0;
        let settled = false;
        let socket: Socket | null = null;
        // Resolving and connecting share the connect timeout.
        const connectTimer = setTimeout(() => finish({ status: "failed", error: `connect to ${target.addr} timed out` }), opts.connectTimeoutMs);
        const finish = (o: Outcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(connectTimer);
          signal.removeEventListener("abort", onAbort);
          socket?.destroy();
          const got = Buffer.concat(received);
          resolve({ ...o, result: { bytesWritten: body.length, received: b64(got), ...o.result } });
        };
        const onAbort = () => finish({ status: "failed", error: "aborted" });
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        const judge = () => {
          const got = Buffer.concat(received).subarray(0, ack!.length);
          if (got.equals(ack!)) finish({ status: "succeeded" });
          else finish({ status: "failed", error: `ack mismatch: expected ${b64(ack!)}, received ${b64(got)}` });
        };

        /** Connects to the i-th address judged; the next is tried only when one refuses the connection. */
        const connectTo = (addresses: readonly Ip[], i: number) => {
          const s = connect({ host: ipText(addresses[i]), port });
          socket = s;
          let connected = false;
          // Events of a socket given up for the next address are ignored.
          const current = () => socket === s && !settled;
          s.on("connect", () => {
            if (!current()) return;
            connected = true;
            clearTimeout(connectTimer);
            s.write(body, (err) => {
              if (err) return finish({ status: "failed", error: `write failed: ${err.message}` });
              if (!ack) {
                s.end();
                finish({ status: "succeeded" });
              }
            });
          });
          s.on("data", (chunk: Buffer) => {
            if (!current()) return;
            if (size < opts.maxResponseBytes) received.push(chunk.subarray(0, opts.maxResponseBytes - size));
            size += chunk.length;
            if (ack && size >= ack.length) judge();
          });
          s.on("end", () => {
            if (current() && ack) judge();
          });
          s.on("error", (err: Error & { code?: string }) => {
            if (!current()) return;
            if (!connected && err.code === "ECONNREFUSED" && i + 1 < addresses.length) {
              s.destroy();
              return connectTo(addresses, i + 1);
            }
            finish({ status: "failed", error: err.message });
          });
          s.on("close", () => {
            if (current() && ack) judge();
          });
        };

        Promise.resolve(opts.egress.pin(req.namespace, host)).then(
          (pinned) => {
            if (settled) return;
            if (pinned.error !== undefined) finish({ status: "failed", error: pinned.error });
            else connectTo(pinned.addresses, 0);
          },
          (e: unknown) => finish({ status: "failed", error: String(e) }),
        );
      });
    },
  };
}
