// Reading a response body within a byte limit. The body arrives as sent (runtime/fetch.ts never decodes
// it): a gzip, deflate or brotli body is decoded here, by streaming, and reading stops at the limit, so a
// small compressed answer that decodes to gigabytes (a decompression bomb) costs at most the limit.
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Transform } from "node:stream";

export interface Body {
  /** The bytes kept, as UTF-8 text (a character cut by the limit becomes U+FFFD). */
  text: string;
  /** More was sent (or would have decoded) than the limit. */
  truncated: boolean;
}

const decoder = new TextDecoder();

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** Collects chunks up to `max` bytes. */
class Capped {
  #chunks: Uint8Array[] = [];
  #size = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  /** Keeps what fits; true once the limit is reached (nothing more is wanted). */
  add(chunk: Uint8Array): boolean {
    const room = this.max - this.#size;
    if (chunk.byteLength > room) {
      if (room > 0) this.#chunks.push(chunk.subarray(0, room));
      this.#size = this.max;
      this.truncated = true;
      return true;
    }
    this.#chunks.push(chunk);
    this.#size += chunk.byteLength;
    return false;
  }

  body(): Body {
    const bytes = this.#chunks.length === 1 ? this.#chunks[0] : new Uint8Array(this.#size);
    if (this.#chunks.length !== 1) {
      let at = 0;
      for (const c of this.#chunks) {
        bytes.set(c, at);
        at += c.byteLength;
      }
    }
    return { text: decoder.decode(bytes), truncated: this.truncated };
  }
}

/**
 * The content codings of a response, in the order they were applied; null when one is not known here
 * (the body is then kept as received).
 */
export function codings(contentEncoding: string | null): string[] | null {
  if (!contentEncoding) return [];
  const list = contentEncoding.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "" && c !== "identity");
  return list.every((c) => Object.hasOwn(DECODERS, c)) ? list : null;
}

/** At most `max` bytes of the body, decoded from its content codings (when tock knows them). */
export function readBody(res: Response, max: number): Promise<Body> {
  const applied = codings(res.headers.get("content-encoding"));
  if (!res.body) return Promise.resolve({ text: "", truncated: false });
  if (applied === null || applied.length === 0) return readRaw(res, max);
  return readDecoded(res.body, applied, max);
}

async function readRaw(res: Response, max: number): Promise<Body> {
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  // The common case, a small body of known length, is read whole.
  if (length <= max) return { text: await res.text(), truncated: false };
  const reader = res.body!.getReader();
  const out = new Capped(max);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out.add(value)) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  return out.body();
}

/**
 * Feeds the raw body through the decoders (the last coding applied is undone first) and keeps their output
 * up to `max`; then stops reading and drops both. Node's zlib streams hold back output while nothing reads
 * it, and here everything is read at once, so what is held in memory is the limit plus one chunk.
 */
async function readDecoded(raw: ReadableStream<Uint8Array>, applied: string[], max: number): Promise<Body> {
  const chain = [...applied].reverse().map((c) => DECODERS[c]());
  for (let i = 0; i + 1 < chain.length; i++) chain[i].pipe(chain[i + 1]);
  const first = chain[0];
  const last = chain[chain.length - 1];
  const out = new Capped(max);
  const reader = raw.getReader();
  let fed = 0;
  let stop = false;

  const decoded = new Promise<void>((resolve, reject) => {
    last.on("data", (chunk: Buffer) => {
      if (!stop && out.add(chunk)) {
        stop = true;
        resolve();
      }
    });
    last.on("end", resolve);
    for (const z of chain) z.on("error", reject);
  });
  const feeding = (async () => {
    while (!stop) {
      const { done, value } = await reader.read();
      if (done) {
        if (fed === 0) stop = true; // an empty body says content-encoding but has nothing to decode
        else first.end();
        return;
      }
      fed += value.byteLength;
      if (!first.write(value) && !stop) await new Promise((r) => (first.once("drain", r), first.once("close", r)));
    }
  })();
  try {
    // Either the limit or the end of the output; an error in reading or decoding rejects.
    await Promise.race([decoded, feeding.then(() => (stop ? undefined : decoded))]);
  } finally {
    stop = true;
    for (const z of chain) z.destroy();
    await reader.cancel().catch(() => {});
  }
  return out.body();
}
