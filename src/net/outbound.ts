// The one door for outbound HTTP: gates, notifications and every metric provider connect through
// an OutboundDoor. It lives below rollout, analysis and webhooks (beside kube) so all of them can
// use it without importing each other. A URL is checked (policy.ts), its host resolved, every
// address checked, and the socket opened to the checked address (the connection's `lookup`), so a DNS
// answer that changes between the check and the connect changes nothing. Redirects are not
// followed: a 3xx is the caller's answer, and one pointing outside the policy is refused as such.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import type { Code } from "../api/codes.ts";
import { checkAddress, checkUrl, type OutboundPolicy, parseAddress, parseRule } from "./policy.ts";

export const DESTINATION_NOT_ALLOWED = "DESTINATION_NOT_ALLOWED" satisfies Code;

/** A destination the policy refuses: nothing was sent. */
export class DestinationNotAllowed extends Error {
  readonly code = DESTINATION_NOT_ALLOWED;
  readonly origin: string;
  readonly rule: string;
  constructor(origin: string, rule: string, address?: string) {
    super(`${origin}${address ? ` (${address})` : ""} is not an allowed destination: ${rule}`);
    this.name = "DestinationNotAllowed";
    this.origin = origin;
    this.rule = rule;
  }
}

export interface OutboundFlags {
  allow?: string[];
  deny?: string[];
  allowLoopback?: boolean;
}

/** The policy from the controller's flags and the apiserver's URL (whose host, when a name, is resolved once here). */
export async function outboundPolicy(flags: OutboundFlags, apiserverUrl?: string): Promise<OutboundPolicy> {
  const apiserver: OutboundPolicy["apiserver"] = [];
  if (apiserverUrl) {
    const url = new URL(apiserverUrl);
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const addresses = parseAddress(host)
      ? [host]
      : await new Promise<string[]>((resolve) =>
          dnsLookup(host, { all: true }, (err, found) => resolve(err ? [] : found.map((a) => a.address))),
        );
    for (const address of addresses) apiserver.push({ address, port });
  }
  return {
    allow: (flags.allow ?? []).map((r) => parseRule(r, "--outbound-allow")),
    deny: (flags.deny ?? []).map((r) => parseRule(r, "--outbound-deny")),
    allowLoopback: flags.allowLoopback ?? false,
    apiserver,
  };
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PostAnswer {
  status: number;
  statusText: string;
}

export interface FetchOptions {
  method: "GET" | "POST" | "PUT";
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Longest answer read; a longer one is refused (ResponseTooLarge). */
  maxBytes: number;
  signal?: AbortSignal;
}

export interface FetchAnswer extends PostAnswer {
  body: string;
}

/** The answer's body was longer than the caller accepts; the rest was not read. */
export class ResponseTooLarge extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`the answer is longer than ${maxBytes} bytes`);
    this.name = "ResponseTooLarge";
    this.maxBytes = maxBytes;
  }
}

type Lookup = (host: string, callback: (err: Error | null, addresses: LookupAddress[]) => void) => void;
const systemLookup: Lookup = (host, callback) => dnsLookup(host, { all: true }, callback);

export class OutboundDoor {
  readonly policy: OutboundPolicy;
  private readonly resolve: Lookup;

  constructor(policy: OutboundPolicy, resolve: Lookup = systemLookup) {
    this.policy = policy;
    this.resolve = resolve;
  }

  /** Checks the URL itself (before any lookup) and gives what a client needs to connect through
   * the policy: a `lookup` for net.connect / http.request / axios. Throws DestinationNotAllowed. */
  open(url: string): { origin: string; lookup: LookupFunction } {
    const { verdict, destination } = checkUrl(url, this.policy);
    if (!verdict.allowed || !destination)
      throw new DestinationNotAllowed(destination?.origin ?? "(an unreadable URL)", verdict.allowed ? "not a URL" : verdict.rule);
    return { origin: destination.origin, lookup: this.lookupFor(destination.port, destination.origin) };
  }

  /** net's lookup: resolves, refuses the host when any of its addresses is outside the policy, and
   * hands the checked addresses to the connect. (A host that is an address is never looked up:
   * open() checked it.) */
  private lookupFor(port: number, origin: string): LookupFunction {
    return (host, options, callback) => {
      this.resolve(host, (err, found) => {
        if (err) return callback(err, "", 0);
        for (const a of found) {
          const address = parseAddress(a.address);
          const verdict = address
            ? checkAddress(host, address, port, this.policy)
            : { allowed: false as const, rule: "unreadable address" };
          if (!verdict.allowed) return callback(new DestinationNotAllowed(origin, verdict.rule, a.address), "", 0);
        }
        if (!found.length) return callback(Object.assign(new Error(`${host} has no address`), { code: "ENOTFOUND" }), "", 0);
        if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, found);
        const first = found[0] as LookupAddress;
        callback(null, first.address, first.family);
      });
    };
  }

  /** POSTs `body` to `url` through the policy; the answer's body is discarded. */
  async post(url: string, opts: PostOptions): Promise<PostAnswer> {
    const { res } = await this.send(url, "POST", opts);
    res.resume();
    return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "" };
  }

  /** Sends `method` to `url` through the policy and reads the answer's body, at most `maxBytes`
   * of it (more is a ResponseTooLarge, and the connection is dropped); the deadline covers the body. */
  async fetchText(url: string, opts: FetchOptions): Promise<FetchAnswer> {
    const { res, signal } = await this.send(url, opts.method, opts);
    const body = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          reject(new ResponseTooLarge(opts.maxBytes));
          res.destroy();
        } else chunks.push(chunk);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", (err) => reject(signal.aborted ? signal.reason : err));
      res.on("aborted", () => reject(signal.aborted ? signal.reason : new Error("the answer was cut off")));
    });
    return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", body };
  }

  /** Opens the request through the policy, sends the body and waits for the answer's head. A
   * redirect pointing outside the policy is refused as such (it is never followed). */
  private async send(
    url: string,
    method: string,
    opts: { headers: Record<string, string>; body?: string; timeoutMs: number; signal?: AbortSignal },
  ): Promise<{ res: IncomingMessage; signal: AbortSignal }> {
    const { lookup } = this.open(url);
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const body = opts.body ?? "";
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, {
        method,
        headers: { ...opts.headers, ...(opts.body !== undefined ? { "content-length": Buffer.byteLength(body) } : {}) },
        lookup,
        signal,
      });
      req.on("response", resolve);
      req.on("error", (err) => reject(signal.aborted ? signal.reason : err));
      req.end(opts.body);
    });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && URL.canParse(location, url)) {
      try {
        this.open(new URL(location, url).toString());
      } catch (err) {
        res.resume();
        throw err;
      }
    }
    return { res, signal };
  }
}
