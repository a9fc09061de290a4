// [server] socket: the path must be free before a server can bind it. A socket file left by a process that
// died (kill -9, a crash) is in the way of every later start, so it is replaced; but only when nothing
// answers on it: a live tock (or anything else) listening there is never cut off from its clients.
import { lstatSync, unlinkSync } from "node:fs";
import { createConnection } from "node:net";

type Probe = "listening" | "stale" | "gone";

/** Makes `path` free to bind: absent, or a socket file no one listens on (removed). Anything else is refused. */
export async function claimSocketPath(path: string, probeMs = 2000): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new Error(`server.socket: cannot use ${path}: ${(e as Error).message}`);
  }
  // A regular file or a directory there is someone's data, not a leftover of ours.
  if (!isSocket) throw new Error(`server.socket: ${path} exists and is not a socket; tock does not replace it`);
  const state = await probe(path, probeMs);
  if (state === "listening") throw new Error(`server.socket: something is listening on ${path} (another tock?); stop it or choose another path`);
  if (state === "gone") return;
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`server.socket: cannot remove the stale socket ${path}: ${(e as Error).message}`);
  }
}

/** Connects once: accepted means a listener; refused means a stale file. Anything else counts as in use. */
function probe(path: string, ms: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const conn = createConnection({ path });
    const done = (state: Probe) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(state);
    };
    // A listener with a full backlog does not accept in time: it is alive all the same.
    const timer = setTimeout(() => done("listening"), ms);
    conn.once("connect", () => done("listening"));
    conn.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ECONNREFUSED") return done("stale");
      if (e.code === "ENOENT") return done("gone");
      if (e.code === "EAGAIN") return done("listening");
      clearTimeout(timer);
      conn.destroy();
      reject(new Error(`server.socket: cannot tell whether something listens on ${path}: ${e.message}`));
    });
  });
}
