// The egress policy: presets, allow and deny lists, namespaces, every spelling of an address, addresses
// inside IPv6 ones, and names judged by what they resolve to.
import { describe, expect, test } from "bun:test";
import { Egress, EgressPolicy, type EgressConfig, embeddedIpv4 } from "../../src/net/egress.ts";
import { parseIp } from "../../src/net/address.ts";
import { cachedResolver, type Resolver } from "../../src/net/resolve.ts";
import { mapResolver } from "../helpers.ts";

const config = (over: Partial<EgressConfig> = {}): EgressConfig => ({ preset: "default", allow: [], deny: [], namespaces: {}, ...over });
const policy = (over: Partial<EgressConfig> = {}) => new EgressPolicy(config(over));

// Every spelling a socket (inet_aton, URL parsers, IPv6 mapping) reads as 127.0.0.1.
const LOOPBACK_SPELLINGS = ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "0x7f000001", "127.0.0.1.", "[::ffff:7f00:1]", "[::ffff:127.0.0.1]", "::ffff:7f00:1"];
const METADATA_SPELLINGS = ["169.254.169.254", "169.254.43518", "0xa9fea9fe", "2852039166", "0251.0376.0251.0376", "[::ffff:a9fe:a9fe]", "[::ffff:169.254.169.254]"];

describe("the default preset", () => {
  const p = policy();

  test("refuses link-local (cloud metadata) in every spelling, naming the rule", () => {
    for (const host of METADATA_SPELLINGS) {
      expect(p.check("ns", host)).toBe("egress: 169.254.169.254 is link-local (cloud metadata), refused by the default preset");
    }
    expect(p.check("ns", "fe80::1")).toBe("egress: fe80::1 is link-local (cloud metadata), refused by the default preset");
    expect(p.check("ns", "[fe80::a:b%eth0]")).toContain("is link-local");
  });

  test("refuses unspecified, multicast and broadcast, and the metadata addresses outside link-local", () => {
    expect(p.check("ns", "0.0.0.0")).toBe("egress: 0.0.0.0 is unspecified, refused by the default preset");
    expect(p.check("ns", "0")).toContain("0.0.0.0 is unspecified");
    expect(p.check("ns", "0.1.2.3")).toContain("is unspecified");
    expect(p.check("ns", "[::]")).toBe("egress: :: is unspecified, refused by the default preset");
    expect(p.check("ns", "224.0.0.1")).toBe("egress: 224.0.0.1 is multicast, refused by the default preset");
    expect(p.check("ns", "ff02::1")).toContain("is multicast");
    expect(p.check("ns", "255.255.255.255")).toBe("egress: 255.255.255.255 is broadcast, refused by the default preset");
    expect(p.check("ns", "[fd00:ec2::254]")).toBe("egress: fd00:ec2::254 is a cloud metadata address (AWS IMDS over IPv6), refused by the default preset");
    expect(p.check("ns", "100.100.100.200")).toBe("egress: 100.100.100.200 is a cloud metadata address (Alibaba Cloud), refused by the default preset");
    expect(p.check("ns", "192.0.0.192")).toBe("egress: 192.0.0.192 is a cloud metadata address (Oracle Cloud), refused by the default preset");
  });

  test("allows loopback, private ranges and public addresses (on-prem callbacks keep working)", () => {
    for (const host of [...LOOPBACK_SPELLINGS, "[::1]", "10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1", "[fd12::1]", "8.8.8.8", "[2001:4860::8888]"]) {
      expect(p.check("ns", host)).toBeNull();
    }
  });

  test("judges an IPv6 address by the IPv4 address it carries too", () => {
    // NAT64, 6to4, IPv4-compatible, IPv4-translated: each carries 169.254.169.254.
    for (const host of ["[64:ff9b::a9fe:a9fe]", "[64:ff9b::169.254.169.254]", "[64:ff9b:1::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "[::a9fe:a9fe]", "[::ffff:0:a9fe:a9fe]"]) {
      expect(p.check("ns", host)).toMatch(/carries 169\.254\.169\.254, which is link-local \(cloud metadata\), refused by the default preset$/);
    }
    expect(p.check("ns", "[64:ff9b::808:808]")).toBeNull();
    expect(embeddedIpv4(parseIp("::1")!)).toBeNull(); // ::1 is loopback itself, not 0.0.0.1
    expect(embeddedIpv4(parseIp("2001:4860::1")!)).toBeNull();
  });
});

describe("the public-only preset", () => {
  const p = policy({ preset: "public-only" });

  test("refuses loopback in every spelling", () => {
    for (const host of LOOPBACK_SPELLINGS) expect(p.check("ns", host)).toBe("egress: 127.0.0.1 is loopback, refused by the public-only preset");
    expect(p.check("ns", "[::1]")).toBe("egress: ::1 is loopback, refused by the public-only preset");
    expect(p.check("ns", "[::7f00:1]")).toBe("egress: ::7f00:1 carries 127.0.0.1, which is loopback, refused by the public-only preset");
    expect(p.check("ns", "[64:ff9b::7f00:1]")).toContain("carries 127.0.0.1, which is loopback");
  });

  test("refuses private, CGNAT, unique-local and every other special-purpose range", () => {
    expect(p.check("ns", "10.0.0.1")).toBe("egress: 10.0.0.1 is private (RFC 1918), refused by the public-only preset");
    expect(p.check("ns", "172.16.5.4")).toContain("private (RFC 1918)");
    expect(p.check("ns", "192.168.0.1")).toContain("private (RFC 1918)");
    expect(p.check("ns", "100.64.0.1")).toBe("egress: 100.64.0.1 is shared address space (CGNAT, 100.64.0.0/10), refused by the public-only preset");
    expect(p.check("ns", "[fd12:3456::1]")).toBe("egress: fd12:3456::1 is unique-local (fc00::/7), refused by the public-only preset");
    expect(p.check("ns", "240.0.0.1")).toContain("is reserved");
    expect(p.check("ns", "[2001:db8::1]")).toContain("is reserved");
    expect(p.check("ns", "[100::1]")).toContain("special-purpose (discard)");
    expect(p.check("ns", "[2001::1]")).toContain("Teredo");
    expect(p.check("ns", "169.254.169.254")).toContain("link-local");
    expect(p.check("ns", "[2002:a00:1::]")).toContain("carries 10.0.0.1, which is private");
  });

  test("allows public addresses, also through NAT64 and 6to4", () => {
    for (const host of ["8.8.8.8", "1.1.1.1", "[2001:4860::8888]", "[64:ff9b::808:808]", "[2002:808:808::1]"]) expect(p.check("ns", host)).toBeNull();
  });
});

describe("allow and deny lists", () => {
  test("deny takes ranges, addresses and names (wildcards too), naming the rule", () => {
    const p = policy({ deny: ["10.0.0.0/8", "8.8.8.8", "*.corp.example", "db.example.com"] });
    expect(p.check("ns", "10.1.2.3")).toBe('egress: 10.1.2.3 is refused by [egress] deny "10.0.0.0/8"');
    expect(p.check("ns", "[::ffff:10.1.2.3]")).toBe('egress: 10.1.2.3 is refused by [egress] deny "10.0.0.0/8"');
    expect(p.check("ns", "[64:ff9b::a01:203]")).toBe('egress: 64:ff9b::a01:203 is refused by [egress] deny "10.0.0.0/8"');
    expect(p.check("ns", "134744072")).toBe('egress: 8.8.8.8 is refused by [egress] deny "8.8.8.8"');
    expect(p.check("ns", "api.corp.example")).toBe('egress: api.corp.example is refused by [egress] deny "*.corp.example"');
    expect(p.check("ns", "DB.Example.COM.")).toBe('egress: DB.Example.COM. is refused by [egress] deny "db.example.com"');
    expect(p.check("ns", "corp.example")).toBeNull(); // *.x is the names under x
    expect(p.check("ns", "11.0.0.1")).toBeNull();
  });

  test("allow beats deny and the preset", () => {
    const p = policy({ preset: "public-only", allow: ["10.1.0.0/16", "169.254.169.254", "*.internal.example"], deny: ["10.0.0.0/8"] });
    expect(p.check("ns", "10.1.2.3")).toBeNull();
    expect(p.check("ns", "10.2.0.1")).toBe('egress: 10.2.0.1 is refused by [egress] deny "10.0.0.0/8"');
    expect(p.check("ns", "169.254.169.254")).toBeNull();
    expect(p.check("ns", "127.0.0.1")).toContain("public-only preset");
    expect(p.judgeName("ns", "api.internal.example")).toBe("allow");
  });

  test("[egress.namespaces.NS] replaces each field it gives, and only for that namespace", () => {
    const p = policy({
      deny: ["10.0.0.0/8"],
      namespaces: { strict: { preset: "public-only" }, open: { deny: [] }, team: { allow: ["10.9.0.0/16"], deny: ["192.168.0.0/16"] } },
    });
    expect(p.check("other", "127.0.0.1")).toBeNull();
    expect(p.check("strict", "127.0.0.1")).toBe("egress: 127.0.0.1 is loopback, refused by the public-only preset of [egress.namespaces.strict]");
    expect(p.check("strict", "10.0.0.1")).toBe('egress: 10.0.0.1 is refused by [egress] deny "10.0.0.0/8"'); // the global deny still holds there
    expect(p.check("open", "10.0.0.1")).toBeNull();
    expect(p.check("open", "169.254.169.254")).toContain("refused by the default preset"); // the global preset
    expect(p.check("team", "10.0.0.1")).toBeNull(); // its deny replaced the global one
    expect(p.check("team", "192.168.1.1")).toBe('egress: 192.168.1.1 is refused by [egress.namespaces.team] deny "192.168.0.0/16"');
  });
});

describe("Egress.pin: names judged by what they resolve to", () => {
  const resolver = mapResolver({
    "meta.test": ["169.254.169.254"],
    "mixed.test": ["169.254.169.254", "127.0.0.1"],
    "private.test": ["10.0.0.1", "::ffff:192.168.0.1", "64:ff9b::a9fe:a9fe"],
    "local.test": ["127.0.0.1"],
    "v6.test": ["::1", "127.0.0.1"],
    "vip.corp.example": ["169.254.169.254"],
  });

  test("a name resolving to a denied address is refused, naming the address and the rule", async () => {
    const e = new Egress(policy(), resolver);
    expect(await e.pin("ns", "meta.test")).toEqual({ error: "egress: meta.test resolves to 169.254.169.254, which is link-local (cloud metadata), refused by the default preset" });
  });

  test("a name resolving to a denied and an allowed address keeps only the allowed one", async () => {
    const e = new Egress(policy(), resolver);
    const pinned = await e.pin("ns", "mixed.test");
    expect(pinned.addresses?.map(String)).toEqual(["127.0.0.1"]);
  });

  test("every refused address is named when none is allowed", async () => {
    const e = new Egress(policy({ preset: "public-only" }), resolver);
    const pinned = await e.pin("ns", "private.test");
    expect(pinned.error).toBe(
      "egress: private.test resolves only to refused addresses: 10.0.0.1, which is private (RFC 1918), refused by the public-only preset; " +
        "192.168.0.1, which is private (RFC 1918), refused by the public-only preset; " +
        "64:ff9b::a9fe:a9fe, which carries 169.254.169.254, which is link-local (cloud metadata), refused by the public-only preset",
    );
  });

  test("IPv6 answers are judged too, and the resolver's order is kept", async () => {
    expect((await new Egress(policy(), resolver).pin("ns", "v6.test")).addresses?.map(String)).toEqual(["::1", "127.0.0.1"]);
    expect((await new Egress(policy({ deny: ["::1"] }), resolver).pin("ns", "v6.test")).addresses?.map(String)).toEqual(["127.0.0.1"]);
  });

  test("a name on allow is allowed whatever it resolves to; a name on deny is refused before resolving", async () => {
    const calls = resolver.calls.length;
    const denied = new Egress(policy({ deny: ["*.corp.example"] }), resolver);
    expect(await denied.pin("ns", "vip.corp.example")).toEqual({ error: 'egress: vip.corp.example is refused by [egress] deny "*.corp.example"' });
    expect(resolver.calls.length).toBe(calls);
    const allowed = new Egress(policy({ allow: ["vip.corp.example"], deny: ["*.corp.example"] }), resolver);
    expect((await allowed.pin("ns", "vip.corp.example")).addresses?.map(String)).toEqual(["169.254.169.254"]);
  });

  test("a name that does not resolve fails with the resolver's reason", async () => {
    expect(await new Egress(policy(), resolver).pin("ns", "nowhere.test")).toEqual({ error: "cannot resolve nowhere.test: getaddrinfo ENOTFOUND nowhere.test" });
  });

  test("literals are judged without resolving", async () => {
    const calls = resolver.calls.length;
    const e = new Egress(policy(), resolver);
    expect((await e.pin("ns", "0x7f.1")).addresses?.map(String)).toEqual(["127.0.0.1"]);
    expect((await e.pin("ns", "[::ffff:a9fe:a9fe]")).error).toContain("link-local");
    expect(resolver.calls.length).toBe(calls);
  });
});

describe("cachedResolver", () => {
  test("shares one lookup between concurrent callers, reuses it for the TTL, and forgets failures", async () => {
    let now = 0;
    let n = 0;
    let fail = false;
    const inner: Resolver = async (host) => {
      n++;
      if (fail) throw new Error("boom");
      return [`10.0.0.${n}`, host];
    };
    const r = cachedResolver(inner, { ttlMs: 1000, now: () => now });
    const [a, b] = await Promise.all([r("x.test"), r("X.test")]);
    expect(a).toEqual(b);
    expect(n).toBe(1);
    now = 999;
    expect(await r("x.test")).toEqual(a);
    now = 1000;
    expect((await r("x.test"))[0]).toBe("10.0.0.2");
    fail = true;
    now = 5000;
    await expect(r("x.test")).rejects.toThrow("boom");
    fail = false;
    expect((await r("x.test"))[0]).toBe("10.0.0.4");
  });

  test("keeps at most `max` names", async () => {
    let n = 0;
    const r = cachedResolver(async () => [`10.0.0.${++n}`], { max: 2 });
    await r("a");
    await r("b");
    await r("c"); // evicts a
    expect(await r("b")).toEqual(["10.0.0.2"]);
    expect(await r("a")).toEqual(["10.0.0.4"]);
  });
});
