// The one place that talks to the apiserver: JSON over node:http(s), through one keep-alive pool per
// client (transport.ts), with the cluster and credentials of a kubeconfig (kubeconfig.ts).

import { existsSync, readFileSync } from "node:fs";
import type { OutgoingHttpHeaders } from "node:http";
import { request as plainRequest } from "node:http";
import { type RequestOptions, request } from "node:https";
import type { LookupFunction } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ClusterAccess,
  clusterAccess,
  inClusterKubeconfig,
  KubeConfigError,
  type Kubeconfig,
  mergeKubeconfigs,
  NO_CONFIGURATION,
  parseKubeconfig,
  SERVICE_ACCOUNT_DIR,
  serverOnly,
} from "./kubeconfig.ts";
import { configSource } from "./pod-defaults.ts";
import { retryDelayMs } from "./retry-after.ts";
import { Transport } from "./transport.ts";
import type { WatchSession } from "./watch-session.ts";

export { KubeConfigError };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** A failed API call, with the apiserver's reason and message (e.g. NotFound, Conflict, Invalid). */
export class KubeError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = "KubeError";
    this.status = status;
    this.reason = reason;
  }
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject & { code?: number; message?: string };
}

/** No answer within KubeClientOptions.requestTimeoutMs; `code` marks it a transport failure, like ECONNREFUSED. */
export class KubeTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(method: string, url: URL, ms: number) {
    super(`${method} ${url.origin}${url.pathname}: no answer within ${ms / 1000}s`);
    this.name = "KubeTimeoutError";
  }
}

/** The watch's HTTP/2 connection was refused by the server: the watch is tried again over HTTP/1.1. */
class RefusedHttp2 extends Error {}

export const isNotFound = (err: unknown) => err instanceof KubeError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeError && err.status === 409;
export const isAlreadyExists = (err: unknown) => err instanceof KubeError && err.reason === "AlreadyExists";

// The HTTP methods as Kubernetes verbs; any other method is "other", so a stray one can't grow a
// metric's label set.
const VERBS = new Map([
  ["GET", "get"],
  ["POST", "create"],
  ["PUT", "update"],
  ["PATCH", "patch"],
  ["DELETE", "delete"],
]);

/** A request in Kubernetes' words, as the apiserver's own metrics name it: the verb (a GET of a
 * collection is a list, a DELETE of one a deletecollection, a watch stream a watch) and the
 * resource[/subresource] of the path; `none` for a path that names no resource (discovery,
 * /version, /readyz). */
export function requestTarget(method: string, url: URL): { verb: string; resource: string } {
  const segments = url.pathname.split("/").filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/..., then namespaces/<ns>/ before a namespaced resource.
  const prefix = segments[0] === "api" ? 2 : segments[0] === "apis" ? 3 : segments.length;
  let rest = segments.slice(prefix);
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, subresource] = rest;
  const upper = method.toUpperCase();
  const collection = resource !== undefined && name === undefined;
  const verb =
    upper === "WATCH" || ["true", "1"].includes(url.searchParams.get("watch") ?? "")
      ? "watch"
      : collection && upper === "GET"
        ? "list"
        : collection && upper === "DELETE"
          ? "deletecollection"
          : (VERBS.get(upper) ?? "other");
  return { verb, resource: resource === undefined ? "none" : subresource ? `${resource}/${subresource}` : resource };
}

const PARTIAL_METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

// Health endpoints (/readyz, /livez) answer plain text; everything else is JSON.
function parseBody(text: string): Record<string, unknown> {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { message: text };
  }
}

/** The apiserver's Status answer as an error, e.g. 403 Forbidden "... cannot watch resource ...". */
const statusError = (status: number, parsed: Record<string, unknown>, text: string) =>
  new KubeError(status, String(parsed.reason ?? status), String(parsed.message ?? (text || `HTTP ${status}`)));

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}

export interface KubeClientOptions {
  kubeconfig?: string;
  /** The cluster and user, given in memory (a fleet member's kubeconfig Secret): no file and no
   * environment variable is read. */
  access?: ClusterAccess;
  /** Resolves the apiserver's host (a fleet member's goes through the outbound policy's lookup). */
  lookup?: LookupFunction;
  context?: string;
  /** Who owns the fields this client applies (server-side apply). */
  fieldManager?: string;
  /** Client-side rate limit (requests per second, and the burst above it), as client-go's QPS/Burst. */
  qps?: number;
  burst?: number;
  /** Called once per answered request (code 0: no answer), e.g. for metrics or a request log;
   * `ms` is the time to the answer's headers. */
  onResponse?: (verb: string, code: number, detail: { url: URL; ms: number }) => void;
  /** Override the context's cluster address (as kubectl --server); with no kubeconfig, the only cluster. */
  server?: string;
  /** Authenticate with this bearer token only (the context's client certificate and plugins are dropped). */
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** Act as this user (and groups): Impersonate-User/-Group headers, as kubectl --as/--as-group. */
  impersonate?: { user: string; groups?: string[] };
  /** Give up on a request with no answer after this long (0/absent: never). A watch gets it to
   * establish itself and as its longest silence, and asks the apiserver to end it sooner. */
  requestTimeoutMs?: number;
}

function readKubeconfig(path: string): Kubeconfig {
  try {
    return parseKubeconfig(readFileSync(path, "utf8"), dirname(path));
  } catch (err) {
    throw new KubeConfigError(`error loading config file "${path}": ${(err as Error).message}`);
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The kubeconfig the options and the environment point at (kubectl's order), as one cluster and user. */
function loadAccess(opts: KubeClientOptions): ClusterAccess {
  if (opts.access) return opts.access;
  const home = join(homedir(), ".kube", "config");
  const source = configSource({ kubeconfigFlag: opts.kubeconfig, env: process.env, homeKubeconfigExists: existsSync(home) });
  let config: Kubeconfig;
  if (source.kind === "file") {
    if (!existsSync(source.path)) throw new KubeConfigError(`stat ${source.path}: no such file or directory`);
    config = readKubeconfig(source.path);
  } else if (source.kind === "default") {
    // KUBECONFIG's files that do not exist are skipped, as kubectl skips them.
    const files = process.env.KUBECONFIG ? process.env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f)) : [home];
    config = mergeKubeconfigs(files.map(readKubeconfig));
  } else if (source.kind === "in-cluster") {
    config = inClusterKubeconfig(process.env, readOptional(join(SERVICE_ACCOUNT_DIR, "namespace")));
  } else {
    const server = opts.server ?? process.env.KUBERNETES_MASTER;
    if (!server) throw new KubeConfigError(NO_CONFIGURATION);
    config = serverOnly(server);
  }
  return clusterAccess(config, {
    context: opts.context,
    server: opts.server,
    token: opts.token,
    insecureSkipTlsVerify: opts.insecureSkipTlsVerify,
  });
}

/** A token bucket: `take()` resolves when a request may go. */
class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  private readonly qps: number;
  private readonly burst: number;

  constructor(qps: number, burst: number) {
    this.qps = qps;
    this.burst = burst;
    this.tokens = burst;
  }

  take(): Promise<void> {
    // Chained so that waiters are served in order.
    this.queue = this.queue.then(async () => {
      const now = Date.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens < 1) {
        await new Promise((r) => setTimeout(r, ((1 - this.tokens) / this.qps) * 1000));
        this.tokens = 1;
        this.last = Date.now();
      }
      this.tokens -= 1;
    });
    return this.queue;
  }
}

export class KubeClient {
  readonly fieldManager: string;
  private readonly transport: Transport;
  private readonly limiter: RateLimiter | undefined;
  private readonly onResponse: KubeClientOptions["onResponse"];
  private readonly impersonate: KubeClientOptions["impersonate"];
  private readonly timeoutMs: number | undefined;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(opts: KubeClientOptions = {}) {
    this.transport = new Transport(loadAccess(opts), undefined, opts.lookup, opts.requestTimeoutMs || undefined);
    this.fieldManager = opts.fieldManager ?? "ramp";
    this.limiter = opts.qps ? new RateLimiter(opts.qps, Math.max(1, opts.burst ?? opts.qps)) : undefined;
    this.onResponse = opts.onResponse;
    this.impersonate = opts.impersonate ?? this.transport.access.impersonate;
    this.timeoutMs = opts.requestTimeoutMs || undefined;
  }

  /** The options of one HTTP request: the pool, authentication and impersonation. */
  private async httpOptions(
    method: string,
    watch: boolean,
    signal?: AbortSignal,
  ): Promise<Omit<RequestOptions, "headers"> & { session?: WatchSession; headers: OutgoingHttpHeaders }> {
    const { agent, session, headers } = await this.transport.prepare(watch);
    return {
      method,
      agent,
      ...(session ? { session } : {}),
      headers: {
        accept: "application/json",
        ...headers,
        ...(this.impersonate
          ? {
              "impersonate-user": this.impersonate.user,
              ...(this.impersonate.groups?.length ? { "impersonate-group": this.impersonate.groups } : {}),
            }
          : {}),
      },
      ...(signal ? { signal } : {}),
    };
  }

  get server(): string {
    return this.transport.access.server;
  }

  /** The namespace of the kubeconfig's context, if it names one. */
  get namespace(): string | undefined {
    return this.transport.access.namespace;
  }

  /** One HTTP call; JSON in and out. Errors from the apiserver become KubeError. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
    accept = "application/json",
  ): Promise<T> {
    const url = new URL(path, this.server);
    const opts = await this.httpOptions(method, false, this.timeoutMs ? AbortSignal.timeout(this.timeoutMs) : undefined);
    Object.assign(opts.headers ?? {}, { accept });
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    // Content-Length always: Node frames no body of a DELETE by itself, and the server then reads the
    // body (propagationPolicy) as the start of the next request on the kept-alive socket (a 400).
    if (payload !== undefined)
      Object.assign(opts.headers ?? {}, { "content-type": contentType, "content-length": Buffer.byteLength(payload) });
    const send = url.protocol === "https:" ? request : plainRequest;
    const deadline = this.timeoutMs ? Date.now() + this.timeoutMs : Number.POSITIVE_INFINITY;
    for (let retries = 0; ; retries++) {
      const { status, text, retryAfter } = await this.send(send, method, url, opts, payload);
      const wait = retryDelayMs(status, retryAfter, retries, deadline - Date.now());
      if (wait === undefined) {
        const parsed = parseBody(text);
        if (status === 401) this.transport.unauthorized();
        if (status >= 400) throw statusError(status, parsed, text);
        return parsed as T;
      }
      await sleep(wait);
    }
  }

  private async send(
    send: typeof request,
    method: string,
    url: URL,
    opts: Parameters<typeof request>[1],
    payload: string | undefined,
  ): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
    await this.limiter?.take();
    return this.sendOnce(send, method, url, opts, payload).catch((err: { stale?: boolean }) => {
      // A kept-alive connection the server closed just as this request went out: nothing reached
      // it, so the request goes again on a fresh connection (Node's documented retry).
      if (err.stale) return this.sendOnce(send, method, url, opts, payload);
      throw err;
    });
  }

  private sendOnce(
    send: typeof request,
    method: string,
    url: URL,
    opts: Parameters<typeof request>[1],
    payload: string | undefined,
  ): Promise<{ status: number; text: string; retryAfter: string | undefined }> {
    const started = Date.now();
    let reported = false;
    const answered = (code: number) => {
      if (!reported) this.onResponse?.(method, code, { url, ms: Date.now() - started });
      reported = true;
    };
    return new Promise((resolve, reject) => {
      let responded = false;
      const fail = (err: NodeJS.ErrnoException) => {
        if (!responded && req.reusedSocket && err.code === "ECONNRESET" && !opts.signal?.aborted) {
          return reject(Object.assign(err, { stale: true }));
        }
        answered(0);
        reject(opts.signal?.aborted ? new KubeTimeoutError(method, url, this.timeoutMs ?? 0) : err);
      };
      const req = send(url, opts, (res) => {
        responded = true;
        answered(res.statusCode ?? 0);
        res.on("error", fail);
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        const retryAfter = res.headers["retry-after"];
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, retryAfter }));
      });
      req.on("error", fail);
      req.end(payload);
    });
  }

  /** Streams a watch: calls `onEvent` for each event until the server ends the stream or `signal`
   * aborts. Resolves when the stream ends; rejects on a transport or HTTP error (`onOpen` is told
   * when the server accepted it). Over https it is a stream on the client's HTTP/2 connection, which
   * PINGs prove alive (watch-session.ts); otherwise one HTTP/1.1 connection, whose silence for the
   * request timeout is taken for a dead one. */
  async watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    try {
      await this.watchOnce(path, onEvent, signal, onOpen);
    } catch (err) {
      // The server (or a proxy before it) refused HTTP/2: the transport now goes over HTTP/1.1.
      if (!(err instanceof RefusedHttp2)) throw err;
      await this.watchOnce(path, onEvent, signal, onOpen);
    }
  }

  private async watchOnce(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, onOpen?: () => void) {
    const url = new URL(path, this.server);
    const opts = await this.httpOptions("GET", true, signal);
    const session = opts.session;
    const idleMs = this.timeoutMs;
    if (idleMs && !session) {
      // A healthy apiserver ends the watch well within the silence we take for a dead one.
      const asked = Number(url.searchParams.get("timeoutSeconds") ?? Number.POSITIVE_INFINITY);
      url.searchParams.set("timeoutSeconds", String(Math.min(asked, Math.max(1, Math.floor(idleMs / 2000)))));
    }
    const started = Date.now();
    const dead = () => new KubeTimeoutError("WATCH", url, idleMs ?? 0);
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let answered = false;
      const stopTimer = () => clearTimeout(timer);
      /** (Re)arms the timer for this long a silence: the answer's headers always, every chunk over HTTP/1.1. */
      const silent = (destroy: (err: Error) => void) => {
        stopTimer();
        if (idleMs) timer = setTimeout(() => destroy(dead()), idleMs);
      };
      const failed = (err: Error) => {
        stopTimer();
        if (signal.aborted) return resolve();
        if (!answered) this.onResponse?.("WATCH", 0, { url, ms: Date.now() - started });
        reject(err);
      };
      /** The answer, whichever transport brought it: an error status, or a stream of JSON lines. */
      const answer = (status: number, body: NodeJS.ReadableStream, everyChunk: () => void) => {
        answered = true;
        this.onResponse?.("WATCH", status, { url, ms: Date.now() - started });
        stopTimer();
        body.setEncoding("utf8");
        if (status >= 400) {
          if (status === 401) this.transport.unauthorized();
          let text = "";
          body.on("data", (c: string) => (text += c));
          body.on("end", () => reject(statusError(status, parseBody(text), text)));
          return;
        }
        onOpen?.();
        let buffer = "";
        everyChunk();
        body.on("data", (chunk: string) => {
          everyChunk();
          buffer += chunk;
          for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent);
          }
        });
        body.on("end", () => {
          stopTimer();
          resolve();
        });
        body.on("error", failed);
      };
      if (session) {
        const stream = session.open(
          { ":method": "GET", ":path": `${url.pathname}${url.search}`, ...opts.headers },
          signal,
          (why) =>
            stream.destroy(
              why === "silent"
                ? dead()
                : session.refusedH2
                  ? new RefusedHttp2()
                  : new Error(`WATCH ${url.origin}${url.pathname}: connection closed`),
            ),
        );
        silent((err) => stream.destroy(err));
        stream.on("response", (headers) => answer(Number(headers[":status"] ?? 0), stream, () => undefined));
        stream.on("error", (err) => failed(session.refuses(err) ? new RefusedHttp2() : err));
        stream.end();
        return;
      }
      const send = url.protocol === "https:" ? request : plainRequest;
      const req = send(url, opts, (res) => {
        res.on("close", stopTimer);
        answer(res.statusCode ?? 0, res, () => silent((err) => req.destroy(err)));
      });
      silent((err) => req.destroy(err));
      req.on("error", failed);
      req.end();
    });
  }

  private resources(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let found = this.discovery.get(apiVersion);
    if (!found) {
      const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      found = this.request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>("GET", path).then(
        (list) =>
          new Map(
            list.resources.filter((r) => !r.name.includes("/")).map((r) => [r.kind, { name: r.name, namespaced: r.namespaced }]),
          ),
      );
      found.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, found);
    }
    return found;
  }

  /** The REST path of a kind (and of one object when `name` is given). */
  async path(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string> {
    const info = (await this.resources(apiVersion)).get(kind);
    if (!info) {
      this.discovery.delete(apiVersion);
      throw new KubeError(404, "NotFound", `the server does not serve ${kind} in ${apiVersion}`);
    }
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${base}${ns}/${info.name}${name ? `/${encodeURIComponent(name)}` : ""}`;
  }

  /** Server-side apply: creates or updates the fields this client owns, leaving others' fields alone. */
  async apply<T extends KubeObject>(obj: T, opts: { force?: boolean; subresource?: "status" } = {}): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query = `?fieldManager=${encodeURIComponent(this.fieldManager)}&fieldValidation=Strict${opts.force ? "&force=true" : ""}`;
    return this.request<T>(
      "PATCH",
      `${path}${opts.subresource ? `/${opts.subresource}` : ""}${query}`,
      obj,
      "application/apply-patch+yaml",
    );
  }

  /** A JSON merge patch (RFC 7386), optionally on a subresource such as status or scale. */
  async patch<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    opts: { subresource?: "status" | "scale" } = {},
  ): Promise<T> {
    const path = await this.path(apiVersion, kind, namespace, name);
    return this.request<T>(
      "PATCH",
      `${path}${opts.subresource ? `/${opts.subresource}` : ""}?fieldManager=${encodeURIComponent(this.fieldManager)}`,
      patch,
      "application/merge-patch+json",
    );
  }

  /** A full replace guarded by metadata.resourceVersion: a stale object gets a 409 Conflict. Strict
   * like create and apply: a field the schema does not know is refused, not silently pruned (which
   * would make a router rewrite the same object on every reconcile). */
  async replace<T extends KubeObject>(obj: T, opts: { subresource?: "status" } = {}): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    return this.request<T>(
      "PUT",
      `${path}${opts.subresource ? `/${opts.subresource}` : ""}?fieldManager=${encodeURIComponent(this.fieldManager)}&fieldValidation=Strict`,
      obj,
    );
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace);
    return this.request<T>("POST", `${path}?fieldManager=${encodeURIComponent(this.fieldManager)}&fieldValidation=Strict`, obj);
  }

  async get<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T> {
    return this.request<T>("GET", await this.path(apiVersion, kind, namespace, name));
  }

  /** The object's metadata only (PartialObjectMetadata): for a Secret, its data stays in the apiserver. */
  async getMetadata(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject> {
    const path = await this.path(apiVersion, kind, namespace, name);
    return this.request<KubeObject>("GET", path, undefined, undefined, PARTIAL_METADATA);
  }

  async list<T extends KubeObject>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
    return (await this.request<{ items: T[] }>("GET", `${await this.path(apiVersion, kind, namespace)}${query}`)).items;
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<void> {
    try {
      await this.request("DELETE", await this.path(apiVersion, kind, namespace, name), { propagationPolicy: "Background" });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
