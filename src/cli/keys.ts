// `tock keys create | list | revoke`: API keys made, listed and revoked on the database of --config/--db,
// like `tock migrate`, also while servers run on it (they see a change within a second or two).
import type { Config } from "../config.ts";
import { FULL_ACCESS } from "../domain/access.ts";
import { DomainError } from "../domain/errors.ts";
import { createKey, type KeyDeps, type KeyView, listKeys, revokeKey } from "../domain/keys.ts";
import type { Logger } from "../log.ts";
import { systemClock } from "../clock.ts";
import { openStore } from "../store/client.ts";

export interface KeysArgs {
  role?: string;
  namespace?: string[];
  allNamespaces?: boolean;
  name?: string;
  expires?: string;
  json?: boolean;
}

export const KEYS_USAGE = `Usage:
  tock keys create --role reader|writer|admin (--namespace NS ... | --all-namespaces) [--name TEXT] [--expires 90d]
  tock keys list [--json]
  tock keys revoke ID
(each with --config FILE or --db URL to pick the database)`;

/** Runs one keys command; returns what to print on stdout. Throws DomainError for bad input. */
export async function keysCommand(cfg: Config, log: Logger, sub: string | undefined, rest: string[], args: KeysArgs): Promise<string> {
  const store = await openStore({ url: cfg.database.url, authToken: cfg.database.authToken, syncUrl: cfg.database.syncUrl, syncIntervalMs: cfg.database.syncInterval, busyTimeoutMs: cfg.database.busyTimeout });
  const deps: KeyDeps = { store, clock: systemClock, access: FULL_ACCESS, log };
  try {
    switch (sub) {
      case "create": {
        const body: Record<string, unknown> = { role: args.role };
        if (args.namespace?.length) body.namespaces = args.namespace;
        if (args.allNamespaces) body.allNamespaces = true;
        if (args.name !== undefined) body.name = args.name;
        if (args.expires !== undefined) body.expires = args.expires;
        if (args.role === undefined) throw new DomainError("invalid", "--role is required (reader, writer or admin)", "role");
        if (!args.namespace?.length && !args.allNamespaces) throw new DomainError("invalid", "give --namespace NS (one or more) or --all-namespaces", "namespaces");
        if (args.namespace?.length && args.allNamespaces) throw new DomainError("invalid", "give --namespace or --all-namespaces, not both", "namespaces");
        const { token } = await createKey(deps, body);
        return `${token}\n`;
      }
      case "list": {
        const keys = await listKeys(deps);
        return args.json ? `${JSON.stringify(keys, null, 2)}\n` : table(keys);
      }
      case "revoke": {
        if (rest.length !== 1) throw new DomainError("invalid", "name the key to revoke: tock keys revoke ID", "id");
        const key = await revokeKey(deps, rest[0]);
        return `revoked ${key.id}${key.name ? ` (${key.name})` : ""}\n`;
      }
      default:
        throw new DomainError("invalid", sub === undefined ? `a keys command is needed\n\n${KEYS_USAGE}` : `unknown keys command: ${sub}\n\n${KEYS_USAGE}`);
    }
  } finally {
    store.close();
  }
}

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "-");

function table(keys: KeyView[]): string {
  const rows = [
    ["ID", "NAME", "ROLE", "NAMESPACES", "CREATED", "LAST USED", "EXPIRES", "STATUS"],
    ...keys.map((k) => [k.id, k.name || "-", k.role, k.allNamespaces ? "*" : k.namespaces.join(","), day(k.createdAt), day(k.lastUsedAt), day(k.expiresAt), k.status]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")).join("\n")}\n`;
}
