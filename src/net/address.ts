// IP addresses in every spelling, and the rules of an egress policy (CIDR ranges and host names). One
// parser (ipaddr.js) decides what an address is, so 127.1, 0x7f.1, 2130706433, 0177.0.0.1 and
// [::ffff:7f00:1] are all 127.0.0.1 here, as they are to the socket that would connect to them.
import ipaddr from "ipaddr.js";

export type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * The address a host string denotes, or null for a name. Takes the forms inet_aton and URL parsers
 * accept (dotted, shortened, hexadecimal, octal and whole-number IPv4), IPv6 with or without brackets
 * or a zone, and unwraps IPv4-mapped IPv6 (::ffff:a.b.c.d) to the IPv4 address it reaches.
 */
export function parseIp(host: string): Ip | null {
  let h = host.trim();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".") && !h.includes(":")) h = h.slice(0, -1); // "127.0.0.1." is the same address
  if (!ipaddr.isValid(h)) return null;
  const ip = ipaddr.parse(h);
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** The canonical text of an address (IPv6 compressed, never bracketed). */
export const ipText = (ip: Ip): string => ip.toString();

/** An address as a URL or `host:port` writes it: IPv6 in brackets. */
export const hostOfIp = (ip: Ip): string => (ip.kind() === "ipv6" ? `[${ip.toString()}]` : ip.toString());

/** A CIDR range, or one address (a /32 or /128). */
export interface Range {
  ip: Ip;
  bits: number;
  text: string;
}

export function parseRange(text: string): Range | null {
  const t = text.trim();
  const slash = t.indexOf("/");
  if (slash < 0) {
    const ip = parseIp(t);
    return ip ? { ip, bits: ip.kind() === "ipv4" ? 32 : 128, text: t } : null;
  }
  const ip = parseIp(t.slice(0, slash));
  const bitsText = t.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(bitsText)) return null;
  let bits = Number(bitsText);
  // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
  if (ip.kind() === "ipv4" && t.slice(0, slash).includes(":")) bits -= 96;
  if (bits < 0 || bits > (ip.kind() === "ipv4" ? 32 : 128)) return null;
  return { ip, bits, text: t };
}

export function inRange(ip: Ip, range: Range): boolean {
  return ip.kind() === range.ip.kind() && ip.match(range.ip, range.bits);
}

/** A host name rule: an exact name, or `*.example.com` for every name under example.com. */
export interface NameRule {
  name: string;
  wildcard: boolean;
  text: string;
}

const NAME = /^(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A host name as compared: lower case, without the root's trailing dot. */
export const normalName = (host: string): string => host.trim().toLowerCase().replace(/\.$/, "");

export function parseNameRule(text: string): NameRule | null {
  const t = normalName(text);
  if (!NAME.test(t) || parseIp(t.replace(/^\*\./, "")) !== null) return null;
  return t.startsWith("*.") ? { name: t.slice(2), wildcard: true, text } : { name: t, wildcard: false, text };
}

export function nameMatches(host: string, rule: NameRule): boolean {
  const h = normalName(host);
  return rule.wildcard ? h.endsWith(`.${rule.name}`) : h === rule.name;
}

/** An egress rule as written in the config: a CIDR range, an address, or a host name. */
export type Rule = { range: Range } | { name: NameRule };

export function parseRule(text: string): Rule | null {
  const range = parseRange(text);
  if (range) return { range };
  const name = parseNameRule(text);
  return name ? { name } : null;
}

/** Whether `host` (a name or an address literal) is a loopback address, or the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const ip = parseIp(host);
  if (ip) return ip.range() === "loopback";
  const name = normalName(host);
  return name === "localhost" || name.endsWith(".localhost");
}

/** The host and port of `host:port`; an IPv6 host loses its brackets. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(addr.slice(i + 1)) };
}
