// API keys: made, listed and revoked by admins (REST /api/v1/keys, or `tock keys` on the database), and
// checked on every request by a KeyRing, each node's copy of the keys, refreshed within a second of any
// change. A key is `tock_<id>_<secret>`: 32 random bytes of secret, of which only a SHA-256 is stored; the
// id finds the row and the hashes are compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import * as v from "valibot";
import type { Logger } from "../log.ts";
import type { Clock } from "../clock.ts";
import { parseDuration } from "../schedule/duration.ts";
import type { Store } from "../store/client.ts";
import { insertKey, type KeyRow, keyRow, keyRows, keysRevision, revokeKeyRow, touchKeys } from "../store/keys.ts";
import { type Access, audit, covers, requireRole, ROLES } from "./access.ts";
import { invalid, notFound } from "./errors.ts";
import { type Rate, RateLimiter } from "./rate.ts";
import { iso } from "./ids.ts";
import { parseInput } from "./schemas.ts";

export interface KeyDeps {
  store: Store;
  clock: Clock;
  access: Access;
  log: Logger;
}

const TOKEN = /^tock_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** A new key: its id, and the token the client sends (shown once). */
export function newKey(): { id: string; secret: string; token: string } {
  const id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => ID_ALPHABET[b % 36]).join("");
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { id, secret, token: `tock_${id}_${secret}` };
}

const NamespacePattern = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}\*?$/, "must be a namespace name, or a prefix ending in * (team-*)"),
);

export const KeyInput = v.pipe(
  v.strictObject({
    role: v.picklist(ROLES, "must be reader, writer or admin"),
    namespaces: v.optional(v.pipe(v.array(NamespacePattern), v.minLength(1, "must name at least one namespace"), v.maxLength(1000, "at most 1000 namespaces"))),
    allNamespaces: v.optional(v.boolean()),
    name: v.optional(v.pipe(v.string(), v.maxLength(200, "must be at most 200 characters"), v.regex(/^[^\x00-\x1f\x7f]*$/, "must not contain control characters"))),
    expires: v.optional(
      v.pipe(
        v.string(),
        v.check((s) => {
          const ms = parseDuration(s);
          return ms !== null && ms > 0 && ms <= 100 * 365 * 86_400_000;
        }, "must be a duration from now such as 90d or 12h"),
      ),
    ),
  }),
  v.check((k) => (k.namespaces !== undefined) !== (k.allNamespaces === true), "give either namespaces or allNamespaces: true"),
);
export type KeyInput = v.InferOutput<typeof KeyInput>;

export function keyView(k: KeyRow, now: number) {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    allNamespaces: k.namespaces === null,
    namespaces: k.namespaces ?? [],
    status: k.revokedAt !== null ? "revoked" : k.expiresAt !== null && k.expiresAt <= now ? "expired" : "active",
    createdAt: iso(k.createdAt),
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    revokedAt: iso(k.revokedAt),
  };
}
export type KeyView = ReturnType<typeof keyView>;

/** Makes a key (admins only, and a scoped admin only within its namespaces). The token is in the answer alone. */
export async function createKey(deps: KeyDeps, body: unknown): Promise<{ key: KeyView; token: string }> {
  requireRole(deps.access, "admin", "making API keys");
  const input = parseInput(KeyInput, body);
  const namespaces = input.allNamespaces ? null : [...new Set(input.namespaces!)];
  if (!covers(deps.access.namespaces, namespaces)) {
    throw invalid("namespaces: a key can only be given namespaces the key making it has", "namespaces");
  }
  const now = deps.clock.now();
  const { id, secret, token } = newKey();
  const row = { id, name: input.name ?? "", role: input.role, namespaces, hash: sha256(secret).toString("hex"), createdAt: now, expiresAt: input.expires ? now + parseDuration(input.expires)! : null };
  await insertKey(deps.store, row);
  audit(deps, "key.create", { id, name: row.name, role: row.role, namespaces: namespaces ?? "*" });
  return { key: keyView({ ...row, revokedAt: null, lastUsedAt: null }, now), token };
}

/** Keys the caller administers: all for an all-namespaces admin, else those within its namespaces. */
export async function listKeys(deps: KeyDeps): Promise<KeyView[]> {
  requireRole(deps.access, "admin", "listing API keys");
  const now = deps.clock.now();
  return (await keyRows(deps.store)).filter((k) => covers(deps.access.namespaces, k.namespaces)).map((k) => keyView(k, now));
}

async function visibleKey(deps: KeyDeps, id: string): Promise<KeyRow> {
  const k = /^[a-z0-9]{12}$/.test(id) ? await keyRow(deps.store, id) : null;
  if (!k || !covers(deps.access.namespaces, k.namespaces)) throw notFound(`key ${id} not found`);
  return k;
}

export async function getKey(deps: KeyDeps, id: string): Promise<KeyView> {
  requireRole(deps.access, "admin", "reading API keys");
  return keyView(await visibleKey(deps, id), deps.clock.now());
}

/** Revokes a key: every node refuses it within a second or two. Idempotent. */
export async function revokeKey(deps: KeyDeps, id: string): Promise<KeyView> {
  requireRole(deps.access, "admin", "revoking API keys");
  await visibleKey(deps, id);
  const now = deps.clock.now();
  const k = await revokeKeyRow(deps.store, id, now);
  if (!k) throw notFound(`key ${id} not found`);
  audit(deps, "key.revoke", { id, name: k.name });
  return keyView(k, now);
}

export type Authenticated = { access: Access } | { error: string } | { retryAfterMs: number; key: string };

/**
 * This node's copy of the API keys. `authenticate` answers from memory; the copy is checked against the
 * database at most every `refreshMs` (one indexed read of the greatest rev, and a reload when it moved), so
 * a key made or revoked on any node, or by `tock keys`, counts here within that time. Last use is written
 * back in batches, at most every `touchMs`.
 */
export class KeyRing {
  #keys = new Map<string, KeyRow & { digest: Buffer }>();
  #rev = -1;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | null = null;
  #used = new Map<string, number>();
  #touchedAt = performance.now();
  #limiter: RateLimiter;

  constructor(
    private readonly deps: { store: Store; clock: Clock; log: Logger },
    private readonly opts: { refreshMs?: number; touchMs?: number; rate?: Rate | null; burst?: number } = {},
  ) {
    this.#limiter = new RateLimiter(opts.rate ?? null, opts.burst ?? 0);
  }

  /** Checks a token; an answer in memory unless the copy is due for its check against the database. */
  authenticate(token: string): Authenticated | Promise<Authenticated> {
    if (performance.now() - this.#checkedAt < (this.opts.refreshMs ?? 1000)) return this.#check(token);
    return this.refresh().then(() => this.#check(token));
  }

  /** Keys that work now (not revoked, not expired), as of the last refresh. */
  usable(): number {
    const now = this.deps.clock.now();
    let n = 0;
    for (const k of this.#keys.values()) if (k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now)) n++;
    return n;
  }

  /** Brings the copy up to date (one read when nothing changed). Concurrent calls share one refresh. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh() {
    const rev = await keysRevision(this.deps.store);
    if (rev !== this.#rev) {
      const rows = await keyRows(this.deps.store);
      this.#keys = new Map(rows.map((k) => [k.id, { ...k, digest: Buffer.from(k.hash, "hex") }]));
      this.#rev = rev;
    }
    this.#checkedAt = performance.now();
    if (this.#used.size > 0 && performance.now() - this.#touchedAt >= (this.opts.touchMs ?? 10_000)) await this.flush();
  }

  /** Writes the last-use times gathered since the previous write. */
  async flush(): Promise<void> {
    const used = [...this.#used];
    this.#used.clear();
    this.#touchedAt = performance.now();
    await touchKeys(this.deps.store, used).catch((e) => this.deps.log.warn("could not record when API keys were last used", { error: e instanceof Error ? e.message : String(e) }));
  }

  #check(token: string): Authenticated {
    const m = TOKEN.exec(token);
    const k = m ? this.#keys.get(m[1]) : undefined;
    // The same work whether or not the id exists, so timing does not tell which ids do.
    const given = sha256(m ? m[2] : token);
    const ok = timingSafeEqual(given, k?.digest ?? DUMMY) && k !== undefined;
    if (!ok) return { error: "the API key is not valid" };
    const now = this.deps.clock.now();
    if (k.revokedAt !== null) return { error: `API key ${k.id} was revoked` };
    if (k.expiresAt !== null && k.expiresAt <= now) return { error: `API key ${k.id} expired at ${iso(k.expiresAt)}` };
    this.#used.set(k.id, now);
    const wait = this.#limiter.take(k.id, performance.now());
    if (wait > 0) return { retryAfterMs: wait, key: k.id };
    return { access: { key: { id: k.id, name: k.name }, role: k.role, namespaces: k.namespaces } };
  }
}

const DUMMY = Buffer.alloc(32);
