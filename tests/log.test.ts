// The logger scrubs secrets from every line: URL passwords, secret-named query parameters and fields.
import { describe, expect, test } from "bun:test";
import { createLogger, maskSecrets } from "../src/log.ts";

function lines(format: "json" | "text", log: (l: ReturnType<typeof createLogger>) => void): string[] {
  const out: string[] = [];
  log(createLogger({ format, level: "debug", write: (l) => out.push(l) }));
  return out;
}

describe("maskSecrets", () => {
  test.each([
    ["libsql://db.example.io?authToken=eyJhbGciOi.x-y_z", "libsql://db.example.io?authToken=***"],
    ["https://db.example.io/?tls=1&auth_token=s3cr3t&x=1", "https://db.example.io/?tls=1&auth_token=***&x=1"],
    ["http://juice:hunter2@cb.example.com:8080/done?task=7", "http://juice:***@cb.example.com:8080/done?task=7"],
    // A password may hold @ (the last @ before the host ends it), and a URL may sit inside a sentence.
    ["POST https://u:p@ss@h.example/x failed: 500", "POST https://u:***@h.example/x failed: 500"],
    ["fetch https://a:b@one/ then https://c:d@two/", "fetch https://a:***@one/ then https://c:***@two/"],
    ["?token=abc&password=pw&secret=s&key=k&api_key=a&apiKey=b&x-api-key=c&access_token=t", "?token=***&password=***&secret=***&key=***&api_key=***&apiKey=***&x-api-key=***&access_token=***"],
    ["https://acct.blob.example/c?sv=2022&sig=AbC%2Bd", "https://acct.blob.example/c?sv=2022&sig=***"],
    ['error: "authToken=abc" rejected', 'error: "authToken=***" rejected'],
  ])("%s", (input, masked) => {
    expect(maskSecrets(input)).toBe(masked);
  });

  test.each([
    "file:/var/lib/tock/tock.db",
    "ops@example.com wrote x = 1",
    "https://user@host/only-a-user",
    "https://host/?page=2&limit=10",
    "https://user:@host/empty-password",
    "a=b",
  ])("leaves %s alone", (text) => {
    expect(maskSecrets(text)).toBe(text);
  });

  test("a string with neither @ nor = is returned as it is", () => {
    const s = "tock serving on 127.0.0.1";
    expect(maskSecrets(s)).toBe(s);
  });
});

describe("every log line", () => {
  const url = "libsql://u:pw@db.example.io?authToken=TOKEN";
  const log = (l: ReturnType<typeof createLogger>) => {
    l.info(`opened ${url}`, { database: url, nested: { list: [url], deeper: { at: url } }, authToken: "TOKEN2", password: "PW2", authorization: "Bearer AUTHZ", count: 3, ok: true, none: null });
    l.warn("failed", { error: new Error(`cannot reach ${url}`) });
  };

  test.each(["json", "text"] as const)("%s: the message and every string field are scrubbed, secret-named fields masked whole", (format) => {
    const out = lines(format, log).join("\n");
    for (const secret of ["TOKEN", "pw@", "PW2", "AUTHZ"]) expect(out).not.toContain(secret);
    expect(out).toContain("libsql://u:***@db.example.io?authToken=***");
  });

  test("json: other fields keep their types", () => {
    const [first, second] = lines("json", log).map((l) => JSON.parse(l));
    expect(first).toMatchObject({ level: "info", authToken: "***", password: "***", authorization: "***", count: 3, ok: true, none: null });
    expect(first.nested.list).toEqual(["libsql://u:***@db.example.io?authToken=***"]);
    expect(second.error).toBe("cannot reach libsql://u:***@db.example.io?authToken=***");
  });
});

describe("under systemd and by level", () => {
  test("with JOURNAL_STREAM, each line starts with its syslog priority, for journalctl -p", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", write: (l) => lines.push(l), journal: true });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    expect(lines.map((l) => l.slice(0, 3))).toEqual(["<7>", "<6>", "<4>", "<3>"]);
    expect(JSON.parse(lines[2].slice(3))).toMatchObject({ level: "warn", msg: "w" });
  });

  test("without it, lines are bare JSON; enabled() tells which levels are written", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l), journal: false });
    log.info("i");
    expect(lines[0].startsWith("{")).toBe(true);
    expect([log.enabled?.("debug"), log.enabled?.("info"), log.enabled?.("error")]).toEqual([false, true, true]);
  });
});
