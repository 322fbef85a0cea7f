import { describe, expect, it } from "vitest";
import { checkAddress, checkUrl, type OutboundPolicy, parseAddress, parseRule } from "./policy.ts";

const policy = (extra: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
  allow: [],
  deny: [],
  allowLoopback: false,
  apiserver: [{ address: "10.96.0.1", port: 443 }],
  ...extra,
});
const rules = (flag: string, ...texts: string[]) => texts.map((t) => parseRule(t, flag));
const LOOPBACK_OK = policy({ allowLoopback: true, apiserver: [{ address: "127.0.0.1", port: 6443 }] });

describe("checkUrl: the URL as the connection reads it", () => {
  it.each([
    { url: "http://169.254.169.254/latest/meta-data/", rule: "built-in: cloud metadata address" },
    { url: "http://[fd00:ec2::254]/", rule: "built-in: cloud metadata address" },
    { url: "http://metadata.google.internal/computeMetadata/v1/", rule: "built-in: cloud metadata address" },
    { url: "http://METADATA.google.internal./", rule: "built-in: cloud metadata address" },
    { url: "http://a@169.254.169.254/", rule: "built-in: cloud metadata address" },
    { url: "http://user:pw@169.254.169.254:8080/", rule: "built-in: cloud metadata address" },
    { url: "http://169.254.10.1/", rule: "built-in: link-local address" },
    { url: "http://[fe80::1]/", rule: "built-in: link-local address" },
    { url: "http://[::ffff:169.254.169.254]/", rule: "built-in: cloud metadata address" },
    { url: "http://[::ffff:a9fe:a9fe]/", rule: "built-in: cloud metadata address" },
    { url: "http://0.0.0.0:8080/", rule: "built-in: unspecified address" },
    { url: "http://[::]/", rule: "built-in: unspecified address" },
    { url: "http://127.0.0.1:9090/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://2130706433/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://0x7f.1/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://017700000001/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://127.1/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://[::1]:9090/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "http://[::ffff:127.0.0.1]/", rule: "built-in: loopback address (--outbound-allow-loopback lifts it)" },
    { url: "https://10.96.0.1/api", rule: "built-in: the apiserver (10.96.0.1:443)" },
    { url: "http://10.96.0.1:8080/", rule: "built-in: the apiserver (10.96.0.1:443)" },
    { url: "file:///etc/passwd", rule: "only http and https" },
    { url: "gopher://example.com/", rule: "only http and https" },
    { url: "not a url", rule: "not a URL" },
  ])("$url is refused: $rule", ({ url, rule }) => {
    expect(checkUrl(url, policy()).verdict).toEqual({ allowed: false, rule });
  });

  it.each([
    { url: "https://prometheus.example.com/", why: "a name: its addresses are checked at the connect" },
    { url: "http://10.0.0.7:9090/", why: "a private address is not denied by default" },
    { url: "http://[2001:db8::1]/", why: "IPv6" },
    { url: "http://localhost./", why: "a name, even localhost: its loopback addresses are refused at the connect" },
  ])("$url passes the URL stage ($why)", ({ url }) => {
    expect(checkUrl(url, policy()).verdict).toEqual({ allowed: true });
  });

  it.each([
    { url: "http://127.0.0.1:9090/", allowed: true },
    { url: "http://2130706433:9090/", allowed: true },
    { url: "http://127.0.0.1:6443/", allowed: false },
    { url: "http://[::ffff:7f00:1]:6443/", allowed: false },
    { url: "http://169.254.169.254/", allowed: false },
  ])("with --outbound-allow-loopback, $url allowed: $allowed (the loopback apiserver keeps its port)", ({ url, allowed }) => {
    expect(checkUrl(url, LOOPBACK_OK).verdict.allowed).toBe(allowed);
  });

  it.each([
    { url: "http://evil.example.com/", rule: "--outbound-deny *.example.com" },
    { url: "http://EVIL.Example.COM./x", rule: "--outbound-deny *.example.com" },
    { url: "http://10.1.2.3/", rule: "--outbound-deny 10.0.0.0/8" },
  ])("explicit denials: $url", ({ url, rule }) => {
    expect(checkUrl(url, policy({ deny: rules("--outbound-deny", "*.example.com", "10.0.0.0/8") })).verdict).toEqual({
      allowed: false,
      rule,
    });
  });

  it("names the origin only: the path and query may carry tokens", () => {
    expect(checkUrl("http://u:p@Example.com:8080/hooks/T0KEN?k=v", policy()).destination?.origin).toBe("http://example.com:8080");
  });
});

describe("checkAddress: each address a name resolves to", () => {
  const allowList = policy({ allow: rules("--outbound-allow", "*.example.com", "192.168.0.0/16", "2001:db8::/32") });
  it.each([
    { host: "prometheus.example.com", address: "203.0.113.5", allowed: true, why: "the host matches *.example.com" },
    { host: "example.com", address: "203.0.113.5", allowed: false, why: "*.example.com does not match the bare domain" },
    { host: "prom.internal", address: "192.168.1.9", allowed: true, why: "in an allowed CIDR" },
    { host: "prom.internal", address: "::ffff:192.168.1.9", allowed: true, why: "IPv4-mapped, in an allowed IPv4 CIDR" },
    { host: "prom.internal", address: "2001:db8:1::5", allowed: true, why: "in an allowed IPv6 CIDR" },
    { host: "prom.internal", address: "203.0.113.5", allowed: false, why: "not in --outbound-allow" },
    { host: "rebound.example.com", address: "169.254.169.254", allowed: false, why: "allowed names never reach metadata" },
    { host: "rebound.example.com", address: "127.0.0.1", allowed: false, why: "nor loopback" },
    { host: "rebound.example.com", address: "10.96.0.1", allowed: false, why: "nor the apiserver" },
  ])("$host -> $address: $allowed ($why)", ({ host, address, allowed }) => {
    expect(checkAddress(host, parseAddress(address)!, 443, allowList).allowed).toBe(allowed);
  });
});

describe("parsing", () => {
  it.each([
    { text: "1.2.3.4", family: 4, value: 0x01020304n },
    { text: "::1", family: 6, value: 1n },
    { text: "[::1]", family: 6, value: 1n },
    { text: "::ffff:1.2.3.4", family: 4, value: 0x01020304n },
    { text: "::ffff:102:304", family: 4, value: 0x01020304n },
    { text: "fe80::1%eth0", family: 6, value: (0xfe80n << 112n) | 1n },
    { text: "1:2:3:4:5:6:7:8", family: 6, value: 0x00010002000300040005000600070008n },
  ])("address $text", ({ text, family, value }) => {
    expect(parseAddress(text)).toEqual({ family, value });
  });

  it.each(["1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "example.com", "", "::ffff:1.2.3"])(
    "not an address: %j",
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );

  it.each([
    { text: "10.0.0.0/8", kind: "cidr" },
    { text: "fd00::/8", kind: "cidr" },
    { text: "192.168.1.1", kind: "cidr" },
    { text: "*.example.com", kind: "host" },
    { text: "Prometheus.Example.com.", kind: "host" },
  ])("rule $text is a $kind", ({ text, kind }) => {
    expect(parseRule(text, "--outbound-allow").kind).toBe(kind);
  });

  it.each(["10.0.0.0/33", "::/129", "*.", "a.*.com", "http://x", "exa mple.com", "1.2.3.4/8/9"])("refused rule %j", (text) => {
    expect(() => parseRule(text, "--outbound-allow")).toThrow(`--outbound-allow ${JSON.stringify(text)}: not a host name`);
  });
});
