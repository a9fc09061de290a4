// The config sections that decide who may call tock and where tock may call: [auth], [server.tls],
// [egress], [callbacks], [secrets] and [limits] (docs/security.md).
import * as v from "valibot";
import { parseRule } from "../net/address.ts";
import { got, int, oneOf, optionalText, section, strings } from "./fields.ts";

const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** A table of namespace = settings, each checked strictly (an unknown key is an error). */
export function perNamespace<const E extends v.ObjectEntries>(entries: E) {
  return v.record(
    v.pipe(v.string(), v.regex(NAMESPACE, "is not a namespace name (letters, digits, '.', '_', ':', '-')")),
    v.strictObject(entries, (i) => (i.expected === "never" ? `unknown key ${i.received}; a namespace here takes ${Object.keys(entries).join(", ")}` : `must be a table${got(i)}`)),
    (i) => `must be a table of namespace = settings${got(i)}`,
  );
}

export const Auth = section({
  // auto: API keys are required unless [server] host is a loopback address; keys: always; off: never.
  mode: v.optional(oneOf(["auto", "keys", "off"]), "auto"),
});

export const Tls = v.pipe(
  section({
    cert: v.optional(optionalText()),
    key: v.optional(optionalText()),
    client_ca: v.optional(optionalText()),
  }),
  v.forward(v.partialCheck([["cert"], ["key"]], (t) => (t.cert === undefined) === (t.key === undefined), "cert and key go together: set both or neither"), ["key"]),
  v.forward(v.partialCheck([["cert"], ["client_ca"]], (t) => t.client_ca === undefined || t.cert !== undefined, "mutual TLS needs the server's own cert and key too"), ["client_ca"]),
);

/** Egress rules: CIDR ranges, single addresses or host names (`*.example.com` for every name under it). */
const rules = () =>
  v.pipe(
    strings("CIDR ranges, addresses or host names", 10_000),
    v.check((list) => list.every((r) => parseRule(r) !== null), (i) => {
      const bad = (i.input as string[]).find((r) => parseRule(r) === null);
      return `${JSON.stringify(bad)} is not a CIDR range (10.0.0.0/8), an address or a host name (api.example.com, *.example.com)`;
    }),
  );

const PRESETS = ["default", "public-only"] as const;

export const Egress = section({
  // default: every address but link-local (cloud metadata), unspecified, multicast and broadcast;
  // public-only: also no loopback, private, shared (CGNAT), unique-local or other special-purpose ranges.
  preset: v.optional(oneOf(PRESETS), "default"),
  allow: v.optional(rules(), []),
  deny: v.optional(rules(), []),
  namespaces: v.optional(perNamespace({ preset: v.optional(oneOf(PRESETS)), allow: v.optional(rules()), deny: v.optional(rules()) }), {}),
});

/** A Standard Webhooks secret: whsec_ and the base64 of 24 to 64 random bytes. */
const signingSecret = () =>
  v.pipe(
    optionalText(),
    v.check((s) => s === undefined || isSigningSecret(s), "must be whsec_ followed by the base64 of 24 to 64 bytes (e.g. whsec_ and `openssl rand -base64 32`)"),
  );

export function isSigningSecret(s: string): boolean {
  const b64 = s.startsWith("whsec_") ? s.slice(6) : "";
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return false;
  const bytes = (b64.length / 4) * 3 - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
  return bytes >= 24 && bytes <= 64;
}

export const Callbacks = section({
  // Signs every HTTP callback (webhook-signature); both sign while a secret is rotated.
  signing_secret: v.optional(signingSecret()),
  previous_signing_secret: v.optional(signingSecret()),
  namespaces: v.optional(perNamespace({ signing_secret: v.optional(signingSecret()), previous_signing_secret: v.optional(signingSecret()) }), {}),
});

/** The base64 of exactly 32 bytes (an AES-256 key). */
export function isSecretsKey(s: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(s.trim());
}

const secretsKey = () => v.pipe(optionalText(), v.check((s) => s === undefined || isSecretsKey(s), "must be the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"));

export const Secrets = v.pipe(
  section({
    key: v.optional(secretsKey()),
    key_file: v.optional(optionalText()),
    previous_key: v.optional(secretsKey()),
    previous_key_file: v.optional(optionalText()),
  }),
  v.forward(v.partialCheck([["key"], ["key_file"]], (s) => s.key === undefined || s.key_file === undefined, "give key or key_file, not both"), ["key_file"]),
  v.forward(
    v.partialCheck([["previous_key"], ["previous_key_file"]], (s) => s.previous_key === undefined || s.previous_key_file === undefined, "give previous_key or previous_key_file, not both"),
    ["previous_key_file"],
  ),
);

/** A rate: "50/s", "600/m", "10000/h"; "" or "off" for none. Output: requests per millisecond, or null. */
export function parseRate(text: string): { count: number; perMs: number } | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "" || t === "off") return null;
  const m = /^(\d{1,9})\s*\/\s*(s|m|h|sec|second|min|minute|hour)$/.exec(t);
  if (!m || Number(m[1]) === 0) return undefined;
  const unit = m[2].startsWith("s") ? 1000 : m[2].startsWith("m") ? 60_000 : 3_600_000;
  return { count: Number(m[1]), perMs: unit };
}

const rate = () =>
  v.pipe(
    v.string((i) => `must be a rate such as "50/s", "600/m" or "off"${got(i)}`),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const r = parseRate(dataset.value);
      if (r === undefined) {
        addIssue({ message: `must be a rate such as "50/s", "600/m" or "10000/h" (a positive count per s, m or h), or "off"${got({ input: dataset.value })}` });
        return NEVER;
      }
      return r;
    }),
  );

export const Limits = section({
  // Jobs one namespace may hold.
  max_jobs: v.optional(int(1, 1_000_000_000), 100_000),
  // Runs of one namespace executing at once on a node; 0 means half of scheduler.max_in_flight.
  max_in_flight: v.optional(int(0, 1_000_000), 0),
  // Requests per API key, per node: a token bucket of `burst` requests refilled at `rate`.
  rate: v.optional(rate(), "100/s"),
  // 0 means twice the rate's count.
  burst: v.optional(int(0, 1_000_000_000), 0),
  // Requests the server works on at once; past it, 503 with Retry-After.
  max_concurrent_requests: v.optional(int(1, 1_000_000), 1024),
  namespaces: v.optional(perNamespace({ max_jobs: v.optional(int(1, 1_000_000_000)), max_in_flight: v.optional(int(1, 1_000_000)) }), {}),
});

