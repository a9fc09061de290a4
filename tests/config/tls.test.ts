// [server.tls] files are read and checked before start-up goes on: every problem names its key and file.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/config.ts";
import { loadTls } from "../../src/config/tls.ts";
import { type Certs, makeCerts } from "../certs.ts";
import { tempDir } from "../helpers.ts";

const { dir, cleanup } = tempDir("tock-tls-");
afterAll(cleanup);
const certs: Certs = makeCerts(dir);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The "key: message" lines of the ConfigError loadTls throws. */
function problems(files: Parameters<typeof loadTls>[0]): string[] {
  try {
    loadTls(files);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error("expected a ConfigError");
}

describe("loadTls", () => {
  test("no cert: plain HTTP", () => {
    expect(loadTls({})).toBeUndefined();
  });

  test("cert and key: their PEM text; client_ca: its certificates", () => {
    expect(loadTls({ cert: certs.serverCert, key: certs.serverKey })).toEqual({ cert: readFileSync(certs.serverCert, "utf8"), key: readFileSync(certs.serverKey, "utf8"), ca: undefined });
    const bundle = file("bundle.pem", `${readFileSync(certs.ca, "utf8")}\n${readFileSync(join(dir, "rogue-ca.pem"), "utf8")}`);
    const tls = loadTls({ cert: certs.serverCert, key: certs.serverKey, clientCa: bundle });
    expect(tls?.ca).toHaveLength(2);
    expect(tls?.ca?.[0]).toBe(readFileSync(certs.ca, "utf8").trim());
  });

  test("a missing file names the key and the file", () => {
    const missing = join(dir, "nope.pem");
    expect(problems({ cert: missing, key: certs.serverKey })).toEqual([`server.tls.cert: cannot read ${missing}: no such file`]);
    expect(problems({ cert: certs.serverCert, key: certs.serverKey, clientCa: dir })).toEqual([`server.tls.client_ca: cannot read ${dir}: it is a directory`]);
  });

  test("files that are not what their key needs", () => {
    const junk = file("junk.pem", "not a certificate\n");
    const broken = file("broken.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(problems({ cert: junk, key: certs.serverKey })).toEqual([`server.tls.cert: ${junk} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
    expect(problems({ cert: broken, key: certs.serverKey })[0]).toStartWith(`server.tls.cert: ${broken} is not a valid certificate (`);
    expect(problems({ cert: certs.serverCert, key: junk })[0]).toStartWith(`server.tls.key: ${junk} is not a PEM private key (`);
    // A certificate where the key should be, and the CA file pointing at a key.
    expect(problems({ cert: certs.serverCert, key: certs.serverCert })[0]).toStartWith(`server.tls.key: ${certs.serverCert} is not a PEM private key`);
    expect(problems({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.clientKey })).toEqual([
      `server.tls.client_ca: ${certs.clientKey} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
  });

  test("a key that is not the certificate's, and an encrypted key", () => {
    expect(problems({ cert: certs.serverCert, key: certs.clientKey })).toEqual([`server.tls.key: ${certs.clientKey} is not the private key of the certificate in ${certs.serverCert}`]);
    const encrypted = file("encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
    expect(problems({ cert: certs.serverCert, key: encrypted })).toEqual([`server.tls.key: ${encrypted} is encrypted; tock needs the key unencrypted (protect the file with its mode instead)`]);
  });

  test("every bad file is listed at once", () => {
    const missing = join(dir, "missing.pem");
    expect(problems({ cert: missing, key: missing, clientCa: missing }).map((p) => p.split(":")[0])).toEqual(["server.tls.cert", "server.tls.key", "server.tls.client_ca"]);
  });
});
