// Certificates for TLS tests, made with openssl in a temp dir: a CA, a server certificate for 127.0.0.1 and
// localhost, a client certificate signed by the CA, and a rogue client certificate signed by another CA.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Certs {
  dir: string;
  /** PEM file paths. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  /** The same, read: what a fetch's `tls` option takes. */
  pem: { ca: string; client: { cert: string; key: string }; rogue: { cert: string; key: string } };
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.error) throw new Error(`openssl is needed for the TLS tests (.ci/run installs it): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")} failed:\n${r.stderr}`);
}

/** A key and a certificate `name`.pem signed by `ca` (or self-signed as a CA when `ca` is absent). */
function issue(dir: string, name: string, subject: string, ca?: string, ext?: string): void {
  // EC keys: made in milliseconds, where RSA keys cost this 2-core machine a noticeable second each.
  openssl(dir, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`]);
  if (!ca) {
    openssl(dir, ["req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", subject]);
    return;
  }
  openssl(dir, ["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
  writeFileSync(join(dir, `${name}.ext`), ext ?? "");
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`]);
}

export function makeCerts(dir: string): Certs {
  issue(dir, "ca", "/CN=tock test CA");
  issue(dir, "rogue-ca", "/CN=rogue CA");
  issue(dir, "server", "/CN=localhost", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  issue(dir, "client", "/CN=tock client", "ca", "extendedKeyUsage=clientAuth\n");
  issue(dir, "rogue", "/CN=tock client", "rogue-ca", "extendedKeyUsage=clientAuth\n");
  const p = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(p(name), "utf8");
  return {
    dir,
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    rogueCert: p("rogue.pem"),
    rogueKey: p("rogue.key"),
    pem: { ca: read("ca.pem"), client: { cert: read("client.pem"), key: read("client.key") }, rogue: { cert: read("rogue.pem"), key: read("rogue.key") } },
  };
}
