// Secret values: write-only through every API, sealed in the database. A job's credential headers
// (Authorization, Proxy-Authorization, Cookie, X-Api-Key and those it lists in `secretHeaders`), URL
// credentials (turned into an Authorization header), the variables it lists in `secretEnv`, and a trigger's
// variables. The stored target holds SECRET where each value goes; the values themselves are one JSON
// object, sealed with AES-256-GCM under [secrets] key, in jobs.secrets (runs.params for a trigger's). Views
// show SECRET, and a PUT that sends SECRET back keeps the stored value, so a GET-then-PUT round trip
// changes nothing. Only the executor, when a run starts, sees the values.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { invalid } from "./errors.ts";
import type { RunParams, StoredRunParams, TargetKind } from "./schemas.ts";

/** What every API shows in place of a secret value; sent back, it means "keep the stored value". */
export const SECRET = "<secret>";

/** Headers whose values are always secret. */
export const CREDENTIAL_HEADERS: readonly string[] = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

export type SecretValues = Record<string, string>;

const PLAIN = "plain:";
const SEALED = "aes256gcm:";

/**
 * Seals and opens secret values with AES-256-GCM: a fresh 12-byte IV each time, stored as
 * base64(IV || ciphertext || 16-byte tag), the layout WebCrypto's AES-GCM produces and reads. (node:crypto
 * does the work: on Bun, crypto.subtle.encrypt costs some 35 µs of the event loop per call, node:crypto's
 * cipher under 2, and a busy API seals on every create of a job with a credential header.) The first key
 * seals; every key opens what it sealed (a sealed value names its key by a short hash), so keys can be
 * rotated. With no key, values are kept as given, marked "plain:".
 */
export class SecretBox {
  private constructor(private readonly keys: { id: string; key: Buffer }[]) {}

  /** `keys`: the base64 of 32-byte keys, the sealing one first (undefined entries are skipped). */
  static async create(keys: readonly (string | undefined)[]): Promise<SecretBox> {
    const out: { id: string; key: Buffer }[] = [];
    for (const k of keys) {
      if (k === undefined) continue;
      const key = Buffer.from(k.trim(), "base64");
      if (key.length !== 32) throw new Error("a [secrets] key must be the base64 of 32 bytes");
      out.push({ id: createHash("sha256").update(key).digest("hex").slice(0, 8), key });
    }
    return new SecretBox(out);
  }

  /** Whether values are sealed (a key is configured) or kept as given. */
  get sealing(): boolean {
    return this.keys.length > 0;
  }

  seal(values: SecretValues): string {
    const plain = JSON.stringify(values);
    if (!this.sealing) return PLAIN + plain;
    const { id, key } = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    const sealed = Buffer.concat([iv, cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${SEALED}${id}:${sealed.toString("base64")}`;
  }

  open(stored: string): SecretValues {
    if (stored.startsWith(PLAIN)) return JSON.parse(stored.slice(PLAIN.length));
    if (!stored.startsWith(SEALED)) throw new Error("secret values in an unknown format");
    const [id, data] = stored.slice(SEALED.length).split(":");
    const k = this.keys.find((x) => x.id === id);
    if (!k) throw new Error(`secret values were sealed with a key this node does not have (key id ${id}); set it as [secrets] key or previous_key`);
    const bytes = Buffer.from(data, "base64");
    const decipher = createDecipheriv("aes-256-gcm", k.key, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return JSON.parse(Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString("utf8"));
  }
}

type Target = Record<string, unknown>;
type Map = Record<string, string>;

const CREDENTIALS: ReadonlySet<string> = new Set(CREDENTIAL_HEADERS);

/** Where a target keeps its secret values, and which of its names are secret (header names in lower case). */
function secretFields(kind: TargetKind, t: Target): { field: "headers" | "env"; names: ReadonlySet<string>; folded: boolean } | null {
  if (kind === "http") {
    const listed = t.secretHeaders as string[] | undefined;
    return { field: "headers", names: listed?.length ? new Set([...CREDENTIAL_HEADERS, ...listed.map((h) => h.toLowerCase())]) : CREDENTIALS, folded: true };
  }
  if (kind === "process" || kind === "script" || kind === "container") {
    return { field: "env", names: new Set((t.secretEnv as string[] | undefined) ?? []), folded: false };
  }
  return null;
}

/** Whether a target sends SECRET back for a value, so the stored values must be read first. */
export function keepsSecrets(kind: TargetKind, target: unknown): boolean {
  const t = target as Target;
  const f = secretFields(kind, t);
  return f !== null && Object.values((t[f.field] as Map | undefined) ?? {}).includes(SECRET);
}

/**
 * Takes the secret values out of a validated target: the target to store (SECRET in their place) and the
 * values, keyed `headers.<lower-case name>` or `env.<NAME>`. SECRET sent for a value keeps `previous`'s.
 * URL credentials become an Authorization header first. Throws `invalid` naming the field.
 */
export function splitSecrets(kind: TargetKind, target: unknown, previous: SecretValues | null): { target: unknown; secrets: SecretValues } {
  let t = { ...(target as Target) };
  if (kind === "http") t = withoutUrlCredentials(t);
  const f = secretFields(kind, t);
  const secrets: SecretValues = {};
  const given = (t[f?.field ?? ""] as Map | undefined) ?? undefined;
  if (!f || !given) return { target: t, secrets };
  const stored: Map = {};
  for (const [name, value] of Object.entries(given)) {
    const key = `${f.field}.${f.folded ? name.toLowerCase() : name}`;
    if (!f.names.has(f.folded ? name.toLowerCase() : name)) {
      stored[name] = value;
      continue;
    }
    if (value === SECRET) {
      const kept = previous?.[key];
      if (kept === undefined) throw invalid(`target.${kind}.${f.field}.${name}: "${SECRET}" stands for the value already stored, and this job has none; send the value`, `target.${kind}.${f.field}.${name}`);
      secrets[key] = kept;
    } else secrets[key] = value;
    stored[name] = SECRET;
  }
  t[f.field] = stored;
  return { target: t, secrets };
}

/** `https://user:pass@host/…` → `https://host/…` with `Authorization: Basic …` (never both). */
function withoutUrlCredentials(t: Target): Target {
  const url = String(t.url);
  if (!url.includes("@") || !URL.canParse(url)) return t;
  const u = new URL(url);
  if (u.username === "" && u.password === "") return t;
  const headers = { ...((t.headers as Map | undefined) ?? {}) };
  if (Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) {
    throw invalid("target.http.url: credentials in the URL and an Authorization header: give one of them", "target.http.url");
  }
  headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString("base64")}`;
  u.username = "";
  u.password = "";
  return { ...t, url: u.href, headers };
}

/** The target with its secret values back in place (for the executor only). */
export function joinSecrets(kind: TargetKind, target: unknown, secrets: SecretValues): unknown {
  const t = { ...(target as Target) };
  const f = secretFields(kind, t);
  const stored = f ? (t[f.field] as Map | undefined) : undefined;
  if (!f || !stored) return t;
  const out: Map = {};
  for (const [name, value] of Object.entries(stored)) out[name] = secrets[`${f.field}.${f.folded ? name.toLowerCase() : name}`] ?? value;
  t[f.field] = out;
  return t;
}

/** A trigger's params as stored: variables' values sealed, SECRET in their place; arguments as given. */
export function sealParams(box: SecretBox, p: RunParams): string {
  if (!p.env) return JSON.stringify(p);
  const env = Object.fromEntries(Object.keys(p.env).map((k) => [k, SECRET]));
  return JSON.stringify({ ...p, env, sealed: box.seal(p.env) });
}

/** A run's params for its executor: the variables' values opened. */
export function openParams(box: SecretBox, stored: (StoredRunParams & { sealed?: string }) | null): StoredRunParams | null {
  if (!stored) return null;
  const { sealed, ...p } = stored;
  return sealed ? { ...p, env: box.open(sealed) } : p;
}
