// Where tock may call ([egress]): HTTP and TCP targets are addresses users choose, so each is judged
// against a preset, an allow list and a deny list (per namespace if configured) before tock connects.
// EgressPolicy judges hosts and addresses; Egress adds resolution: the addresses a name resolves to are
// judged, and the caller connects to one of those very addresses (never resolving the name again).
import ipaddr from "ipaddr.js";
import { type Ip, inRange, ipText, type NameRule, nameMatches, parseIp, parseRule, type Range } from "./address.ts";
import type { Resolver } from "./resolve.ts";

export type Preset = "default" | "public-only";

/** The [egress] section as the config gives it (Config["egress"]). */
export interface EgressConfig {
  preset: Preset;
  allow: readonly string[];
  deny: readonly string[];
  namespaces: Readonly<Record<string, { preset?: Preset; allow?: readonly string[]; deny?: readonly string[] }>>;
}

export interface RuleSet {
  ranges: Range[];
  names: NameRule[];
  /** Where the list comes from, for messages: "[egress]" or "[egress.namespaces.x]". */
  from: string;
}

/** The rules one namespace is held to: each field the namespace's own, or else the global one. */
export interface Rules {
  preset: Preset;
  presetFrom: string;
  allow: RuleSet;
  deny: RuleSet;
}

function ruleSet(texts: readonly string[], from: string): RuleSet {
  const set: RuleSet = { ranges: [], names: [], from };
  for (const text of texts) {
    // The config schema has checked every rule; one that does not parse is skipped, not fatal.
    const rule = parseRule(text);
    if (rule && "range" in rule) set.ranges.push(rule.range);
    else if (rule) set.names.push(rule.name);
  }
  return set;
}

// ipaddr.js range names, in words. The default preset refuses the first four.
const RANGE_WORDS: Record<string, string> = {
  unspecified: "unspecified",
  linkLocal: "link-local (cloud metadata)",
  multicast: "multicast",
  broadcast: "broadcast",
  loopback: "loopback",
  private: "private (RFC 1918)",
  carrierGradeNat: "shared address space (CGNAT, 100.64.0.0/10)",
  uniqueLocal: "unique-local (fc00::/7)",
  reserved: "reserved",
  teredo: "Teredo (2001::/32)",
  deprecatedSiteLocal: "site-local (fec0::/10)",
};
const DEFAULT_REFUSED = new Set(["unspecified", "linkLocal", "multicast", "broadcast"]);

/** Ranges that carry an IPv4 address: public-only judges them by that address, not by their own range. */
const TRANSLATION = new Set(["ipv4Mapped", "rfc6145", "rfc6052", "6to4"]);

/** Cloud metadata services outside link-local, refused by every preset. */
const METADATA: { range: Range; what: string }[] = [
  ["fd00:ec2::254", "AWS IMDS over IPv6"],
  ["100.100.100.200", "Alibaba Cloud"],
  ["192.0.0.192", "Oracle Cloud"],
].map(([text, what]) => ({ range: { ip: parseIp(text)!, bits: text.includes(":") ? 128 : 32, text }, what }));

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);

/**
 * The IPv4 address an IPv6 one carries: IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96),
 * NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and IPv4-compatible (::/96, but :: and ::1).
 */
export function embeddedIpv4(ip: Ip): ipaddr.IPv4 | null {
  if (ip.kind() !== "ipv6") return null;
  const p = (ip as ipaddr.IPv6).parts;
  const range = ip.range();
  if (range === "ipv4Mapped" || range === "rfc6145" || range === "rfc6052") return v4(p[6], p[7]);
  if (range === "6to4") return v4(p[1], p[2]);
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0 && !(p[6] === 0 && p[7] <= 1)) return v4(p[6], p[7]);
  return null;
}

/** Why a preset refuses an address (without looking inside it), or null. */
function presetRefuses(preset: Preset, ip: Ip): string | null {
  for (const m of METADATA) if (inRange(ip, m.range)) return `a cloud metadata address (${m.what})`;
  const range = ip.range();
  if (preset === "default") return DEFAULT_REFUSED.has(range) ? RANGE_WORDS[range] : null;
  if (range === "unicast" || TRANSLATION.has(range)) return null;
  return RANGE_WORDS[range] ?? `special-purpose (${range})`;
}

/** Whether a host name or address is allowed: null when it is, else the message naming the rule. */
export type Verdict = string | null;

export class EgressPolicy {
  #global: Rules;
  #namespaces = new Map<string, Rules>();
  #checked = new Map<string, Verdict>();
  #cfg: EgressConfig;

  constructor(cfg: EgressConfig) {
    this.#cfg = cfg;
    this.#global = { preset: cfg.preset, presetFrom: "[egress]", allow: ruleSet(cfg.allow, "[egress]"), deny: ruleSet(cfg.deny, "[egress]") };
  }

  /** The rules of a namespace: its [egress.namespaces.NS] fields over the global ones. */
  rules(ns: string): Rules {
    const own = Object.hasOwn(this.#cfg.namespaces, ns) ? this.#cfg.namespaces[ns] : undefined;
    if (!own) return this.#global;
    let r = this.#namespaces.get(ns);
    if (!r) {
      const from = `[egress.namespaces.${ns}]`;
      r = {
        preset: own.preset ?? this.#global.preset,
        presetFrom: own.preset ? from : this.#global.presetFrom,
        allow: own.allow ? ruleSet(own.allow, from) : this.#global.allow,
        deny: own.deny ? ruleSet(own.deny, from) : this.#global.deny,
      };
      this.#namespaces.set(ns, r);
    }
    return r;
  }

  /**
   * A host name by the name rules alone: "allow" when allowed whatever it resolves to, a message when it is
   * denied, null when its addresses decide.
   */
  judgeName(ns: string, name: string): "allow" | string | null {
    const r = this.rules(ns);
    if (r.allow.names.some((rule) => nameMatches(name, rule))) return "allow";
    const denied = r.deny.names.find((rule) => nameMatches(name, rule));
    return denied ? `egress: ${name} is refused by ${r.deny.from} deny ${JSON.stringify(denied.text)}` : null;
  }

  /**
   * An address. `subject` is how the message starts ("10.0.0.1", or "api.test resolves to 10.0.0.1, which").
   * An IPv6 address that carries an IPv4 one is refused when either is.
   */
  judgeAddress(ns: string, ip: Ip, subject = ipText(ip)): Verdict {
    const r = this.rules(ns);
    const inner = embeddedIpv4(ip);
    const matches = (range: Range) => inRange(ip, range) || (inner !== null && inRange(inner, range));
    if (r.allow.ranges.some(matches)) return null;
    const denied = r.deny.ranges.find(matches);
    if (denied) return `egress: ${subject} is refused by ${r.deny.from} deny ${JSON.stringify(denied.text)}`;
    const own = presetRefuses(r.preset, ip);
    const carried = own === null && inner ? presetRefuses(r.preset, inner) : null;
    const why = own ?? (carried && `carries ${inner!.toString()}, which is ${carried}`);
    if (!why) return null;
    const by = r.presetFrom === "[egress]" ? `the ${r.preset} preset` : `the ${r.preset} preset of ${r.presetFrom}`;
    return `egress: ${subject} ${own ? `is ${why}` : why}, refused by ${by}`;
  }

  /**
   * What can be judged without resolving anything (when a job is created): an address literal, or a host
   * name on a deny list. Null: allowed, or decided by what the name resolves to at each attempt.
   */
  check(ns: string, host: string): Verdict {
    // Jobs name few distinct hosts, and a busy API checks each create: verdicts are kept (the rules never change).
    const key = `${ns}\u0000${host}`;
    const known = this.#checked.get(key);
    if (known !== undefined) return known;
    const ip = parseIp(host);
    const byName = ip ? null : this.judgeName(ns, host);
    const verdict = ip ? this.judgeAddress(ns, ip) : byName === "allow" ? null : byName;
    if (this.#checked.size >= 10_000) this.#checked.clear();
    this.#checked.set(key, verdict);
    return verdict;
  }
}

const policies = new WeakMap<EgressConfig, EgressPolicy>();

/** The policy of a config section, compiled once per section object. */
export function egressPolicy(cfg: EgressConfig): EgressPolicy {
  let p = policies.get(cfg);
  if (!p) policies.set(cfg, (p = new EgressPolicy(cfg)));
  return p;
}

/** Where an attempt may connect: the allowed addresses in the resolver's order, or why none is. */
export type Pinned = { addresses: Ip[]; error?: undefined } | { addresses?: undefined; error: string };

/** How many refused addresses a message lists. */
const LISTED = 3;

/** The egress policy with a resolver: judges each attempt's target after resolving it. */
export class Egress {
  // Verdicts on address literals per namespace: the same few targets are judged on every attempt.
  #literals = new Map<string, Pinned>();

  constructor(
    readonly policy: EgressPolicy,
    readonly resolve: Resolver,
  ) {}

  /**
   * The addresses `host` (a name or an address literal, as in a URL or host:port) may be reached at from
   * namespace `ns`. The caller connects to one of these, not to the name.
   */
  pin(ns: string, host: string): Pinned | Promise<Pinned> {
    const key = `${ns}\u0000${host}`;
    const known = this.#literals.get(key);
    if (known) return known;
    const ip = parseIp(host);
    if (!ip) return this.#pinName(ns, host);
    const error = this.policy.judgeAddress(ns, ip);
    const pinned: Pinned = error ? { error } : { addresses: [ip] };
    if (this.#literals.size >= 10_000) this.#literals.clear();
    this.#literals.set(key, pinned);
    return pinned;
  }

  async #pinName(ns: string, host: string): Promise<Pinned> {
    const byName = this.policy.judgeName(ns, host);
    if (byName !== null && byName !== "allow") return { error: byName };
    let found: string[];
    try {
      found = await this.resolve(host);
    } catch (e) {
      return { error: `cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}` };
    }
    const ips = found.map((a) => parseIp(a)).filter((ip): ip is Ip => ip !== null);
    if (ips.length === 0) return { error: `cannot resolve ${host}: it resolves to no address` };
    // A name on the allow list is allowed whatever it resolves to.
    if (byName === "allow") return { addresses: ips };
    const allowed: Ip[] = [];
    const refused: string[] = [];
    for (const ip of ips) {
      const why = this.policy.judgeAddress(ns, ip, `${host} resolves to ${ipText(ip)}, which`);
      if (why === null) allowed.push(ip);
      else refused.push(why);
    }
    if (allowed.length > 0) return { addresses: allowed };
    if (refused.length === 1) return { error: refused[0] };
    const listed = refused.slice(0, LISTED).map((m) => m.replace(/^egress: \S+ resolves to /, ""));
    const more = refused.length > LISTED ? `; and ${refused.length - LISTED} more` : "";
    return { error: `egress: ${host} resolves only to refused addresses: ${listed.join("; ")}${more}` };
  }
}
