// Signed callbacks ([callbacks]): every HTTP request carries `webhook-signature` as the Standard Webhooks
// specification defines it, an HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" under the
// namespace's secret, so receivers can check it came from tock and was not replayed later. While a secret
// is rotated, the previous one signs too (space-separated `v1,` signatures): receivers holding either verify.
import { Webhook } from "standardwebhooks";

/** The secrets of [callbacks] or one [callbacks.namespaces.NS] (Config["callbacks"]). */
export interface Secrets {
  signingSecret?: string;
  previousSigningSecret?: string;
}

export interface CallbacksConfig extends Secrets {
  namespaces: Readonly<Record<string, Secrets>>;
}

export interface Signer {
  /** The webhook-signature header of a request from namespace `ns`, or null when that namespace does not sign. */
  sign(ns: string, id: string, timestamp: number, body: string): string | null;
}

export function createSigner(cfg: CallbacksConfig): Signer {
  // One Webhook (its decoded key) per secret, built once.
  const hooks = new Map<string, Webhook>();
  const keysOf = (s: Secrets): Webhook[] =>
    [s.signingSecret, s.previousSigningSecret]
      .filter((secret): secret is string => secret !== undefined && secret !== "")
      .map((secret) => {
        let hook = hooks.get(secret);
        if (!hook) hooks.set(secret, (hook = new Webhook(secret)));
        return hook;
      });
  const global = keysOf(cfg);
  // A namespace's table replaces the global secrets for it (an empty one: its callbacks go unsigned).
  const own = new Map(Object.entries(cfg.namespaces).map(([ns, s]) => [ns, keysOf(s)]));
  return {
    sign(ns, id, timestamp, body) {
      const keys = own.get(ns) ?? global;
      if (keys.length === 0) return null;
      const at = new Date(timestamp * 1000);
      return keys.length === 1 ? keys[0].sign(id, at, body) : keys.map((k) => k.sign(id, at, body)).join(" ");
    },
  };
}
