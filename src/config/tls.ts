// Reads and checks the PEM files of [server.tls] before anything is opened or listens. Bun and Deno given a
// bad file fail with "Failed to create HTTP server" or an OpenSSL code that names neither the key nor the
// file; an operator needs both.
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, type ConfigIssue } from "./load.ts";

/** [server.tls] as configured: paths of PEM files. */
export interface TlsFiles {
  cert?: string;
  key?: string;
  clientCa?: string;
}

/** The PEM text a server is given. */
export interface TlsMaterial {
  /** The server's certificate, then any intermediates. */
  cert: string;
  key: string;
  /** CA certificates that sign accepted client certificates: set means mutual TLS. */
  ca?: string[];
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The TLS material of `files`, or undefined without a cert (plain HTTP); a ConfigError lists every bad file. */
export function loadTls(files: TlsFiles, read: (path: string) => string = (p) => readFileSync(p, "utf8")): TlsMaterial | undefined {
  if (files.cert === undefined || files.key === undefined) return undefined;
  const issues: ConfigIssue[] = [];
  const load = (key: string, path: string): string | undefined => {
    try {
      return read(path);
    } catch (e) {
      issues.push({ path: key, message: `cannot read ${path}: ${readError(e)}` });
      return undefined;
    }
  };

  const certText = load("server.tls.cert", files.cert);
  const chain = certText === undefined ? undefined : certificates("server.tls.cert", files.cert, certText, issues);
  const keyText = load("server.tls.key", files.key);
  let key: KeyObject | undefined;
  if (keyText !== undefined) {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
      issues.push({ path: "server.tls.key", message: `${files.key} is encrypted; tock needs the key unencrypted (protect the file with its mode instead)` });
    } else {
      try {
        key = createPrivateKey(keyText);
      } catch (e) {
        issues.push({ path: "server.tls.key", message: `${files.key} is not a PEM private key (${(e as Error).message})` });
      }
    }
  }
  if (chain?.[0] && key && !chain[0].checkPrivateKey(key)) {
    issues.push({ path: "server.tls.key", message: `${files.key} is not the private key of the certificate in ${files.cert}` });
  }

  let ca: string[] | undefined;
  if (files.clientCa !== undefined) {
    const caText = load("server.tls.client_ca", files.clientCa);
    if (caText !== undefined && certificates("server.tls.client_ca", files.clientCa, caText, issues)) ca = caText.match(CERTIFICATE) ?? [];
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return { cert: certText!, key: keyText!, ca };
}

/** The certificates of a PEM file, each parsed; undefined (with an issue) if there is none or one is bad. */
function certificates(key: string, path: string, text: string, issues: ConfigIssue[]): X509Certificate[] | undefined {
  const blocks = text.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    issues.push({ path: key, message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` });
    return undefined;
  }
  const parsed: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      parsed.push(new X509Certificate(block));
    } catch (e) {
      const which = blocks.length > 1 ? `certificate ${i + 1} in ${path}` : path;
      issues.push({ path: key, message: `${which} is not a valid certificate (${(e as Error).message})` });
      return undefined;
    }
  }
  return parsed;
}

function readError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (e as Error).message ?? String(e);
}
