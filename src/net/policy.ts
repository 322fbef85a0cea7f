// Pure: may the controller connect to this destination? The outbound policy (controller flags) as
// rules, checked twice per connection: the URL before any lookup (scheme, host names, literal
// addresses), then every address the host resolves to, right before connecting to that address.
// Tenants write the URLs (gates, Prometheus addresses), so every form a URL can take is read the
// way the connection will read it: WHATWG URL parsing turns `2130706433`, `0x7f.1` and `017700000001`
// into 127.0.0.1 and drops userinfo, and IPv4-mapped IPv6 addresses are checked as the IPv4 they are.

export type Family = 4 | 6;

export interface Address {
  family: Family;
  /** The address as one number: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

export interface Cidr extends Address {
  bits: number;
}

/** A flag's value: a host name, `*.suffix`, an address or an address/prefix. */
export type Rule = { text: string } & ({ kind: "host"; pattern: string } | { kind: "cidr"; cidr: Cidr });

export interface OutboundPolicy {
  /** Only these destinations (by host pattern, or every resolved address in a CIDR); empty: any not denied. */
  allow: Rule[];
  deny: Rule[];
  /** Dev clusters and tests: loopback destinations are allowed (the apiserver's own port stays denied). */
  allowLoopback: boolean;
  /** The apiserver's addresses: never a destination (on loopback, only its port). */
  apiserver: { address: string; port: number }[];
}

export type Verdict = { allowed: true } | { allowed: false; rule: string };

const ALLOWED: Verdict = { allowed: true };
const refused = (rule: string): Verdict => ({ allowed: false, rule });

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((v, p) => (v << 8n) | BigInt(p), 0n);
}

function parseIPv6(text: string): bigint | undefined {
  let groups = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  const lastColon = groups.lastIndexOf(":");
  if (groups.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(groups.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    groups = `${groups.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = groups.split("::");
  if (halves.length > 2) return undefined;
  const read = (s: string) => (s === "" ? [] : s.split(":"));
  const head = read(halves[0] as string);
  const rest = halves.length === 2 ? read(halves[1] as string) : [];
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const hex = [...head, ...Array<string>(8 - given).fill("0"), ...rest];
  if (!hex.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return hex.reduce((v, g) => (v << 16n) | BigInt(`0x${g}`), 0n);
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** An address in its canonical family: IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4. */
export function parseAddress(text: string): Address | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = bare.includes(":") ? parseIPv6(bare.replace(/%.*$/, "")) : undefined;
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === MAPPED_PREFIX >> 32n) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, prefix, ...extra] = text.split("/");
  const address = addr === undefined || extra.length ? undefined : parseAddress(addr);
  if (!address) return undefined;
  const max = address.family === 4 ? 32 : 128;
  // A mapped IPv6 prefix counts in IPv4 bits.
  const offset = address.family === 4 && addr?.includes(":") ? 96 : 0;
  const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) - offset : Number.NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  return { ...address, bits };
}

export function inCidr(address: Address, cidr: Cidr): boolean {
  if (address.family !== cidr.family) return false;
  const shift = BigInt((address.family === 4 ? 32 : 128) - cidr.bits);
  return address.value >> shift === cidr.value >> shift;
}

/** A host name as DNS reads it: lower case, without the root's trailing dot. */
export const normalHost = (host: string) => host.toLowerCase().replace(/\.+$/, "");

const HOST_PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A flag value as a rule; a message naming the flag and the value when it is neither a host pattern nor a CIDR. */
export function parseRule(text: string, flag: string): Rule {
  const cidr = parseCidr(text.trim());
  if (cidr) return { kind: "cidr", cidr, text: text.trim() };
  const pattern = normalHost(text.trim());
  if (HOST_PATTERN.test(pattern)) return { kind: "host", pattern, text: text.trim() };
  throw new Error(`${flag} ${JSON.stringify(text)}: not a host name, *.domain pattern, address or CIDR`);
}

export function hostMatches(host: string, pattern: string): boolean {
  const name = normalHost(host);
  return pattern.startsWith("*.") ? name.endsWith(pattern.slice(1)) : name === pattern;
}

const cidr = (text: string) => parseCidr(text) as Cidr;
const BUILT_IN: { name: string; cidrs: Cidr[] }[] = [
  { name: "unspecified address", cidrs: [cidr("0.0.0.0/8"), cidr("::/128")] },
  { name: "cloud metadata address", cidrs: [cidr("169.254.169.254"), cidr("fd00:ec2::254")] },
  { name: "link-local address", cidrs: [cidr("169.254.0.0/16"), cidr("fe80::/10")] },
];
const LOOPBACK = [cidr("127.0.0.0/8"), cidr("::1/128")];
/** Names of metadata services that do not look like addresses. */
const METADATA_HOSTS = ["metadata.google.internal", "metadata.goog", "metadata.azure.internal"];

export const isLoopback = (a: Address) => LOOPBACK.some((c) => inCidr(a, c));

const matchingRule = (rules: Rule[], host: string, address: Address | undefined) =>
  rules.find((r) => (r.kind === "host" ? hostMatches(host, r.pattern) : address !== undefined && inCidr(address, r.cidr)));

function sameAddress(a: Address, text: string): boolean {
  const b = parseAddress(text);
  return b !== undefined && a.family === b.family && a.value === b.value;
}

/** One address `host` resolved to (or the host itself when it is an address), before connecting to it. */
export function checkAddress(host: string, address: Address, port: number, policy: OutboundPolicy): Verdict {
  for (const b of BUILT_IN) if (b.cidrs.some((c) => inCidr(address, c))) return refused(`built-in: ${b.name}`);
  const denied = matchingRule(policy.deny, host, address);
  if (denied) return refused(`--outbound-deny ${denied.text}`);
  const loopback = isLoopback(address);
  const apiserver = policy.apiserver.find((a) => sameAddress(address, a.address) && (!loopback || a.port === port));
  if (apiserver) return refused(`built-in: the apiserver (${apiserver.address}:${apiserver.port})`);
  if (loopback)
    return policy.allowLoopback ? ALLOWED : refused("built-in: loopback address (--outbound-allow-loopback lifts it)");
  if (policy.allow.length && !matchingRule(policy.allow, host, address)) return refused("not in --outbound-allow");
  return ALLOWED;
}

export interface Destination {
  protocol: "http:" | "https:";
  host: string;
  port: number;
  /** Set when the host is an address: no lookup happens, so this is the only check. */
  address?: Address;
  /** scheme://host:port, for messages: the path and query may carry tokens. */
  origin: string;
}

/** Stage one: the URL as the connection will read it. */
export function checkUrl(url: string, policy: OutboundPolicy): { verdict: Verdict; destination?: Destination } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { verdict: refused("not a URL") };
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return { verdict: refused("only http and https") };
  const host = parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === "https:" ? 443 : 80;
  const address = parseAddress(host);
  const destination: Destination = {
    protocol: parsed.protocol,
    host,
    port,
    ...(address ? { address } : {}),
    origin: `${parsed.protocol}//${parsed.host}`,
  };
  if (address) return { verdict: checkAddress(host, address, port, policy), destination };
  if (METADATA_HOSTS.includes(normalHost(host))) return { verdict: refused("built-in: cloud metadata address"), destination };
  const denied = matchingRule(policy.deny, host, undefined);
  return { verdict: denied ? refused(`--outbound-deny ${denied.text}`) : ALLOWED, destination };
}
