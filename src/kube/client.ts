// The one place that talks to the apiserver. Authentication comes from @kubernetes/client-node's
// KubeConfig; bodies are sent as plain JSON, because client-node's typed serializer drops fields it
// has no model for (such as x-kubernetes-* keys in CRDs).

import { request as plainRequest } from "node:http";
import { request } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";

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

export const isNotFound = (err: unknown) => err instanceof KubeError && err.status === 404;
export const isConflict = (err: unknown) => err instanceof KubeError && err.status === 409;
export const isAlreadyExists = (err: unknown) => err instanceof KubeError && err.reason === "AlreadyExists";

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
  context?: string;
  /** Who owns the fields this client applies (server-side apply). */
  fieldManager?: string;
  /** Client-side rate limit (requests per second, and the burst above it), as client-go's QPS/Burst. */
  qps?: number;
  burst?: number;
  /** Called once per answered request (code 0: no answer), e.g. for metrics. */
  onResponse?: (verb: string, code: number) => void;
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
  readonly config: KubeConfig;
  readonly fieldManager: string;
  private readonly limiter: RateLimiter | undefined;
  private readonly onResponse: ((verb: string, code: number) => void) | undefined;
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(opts: KubeClientOptions = {}) {
    this.config = new KubeConfig();
    if (opts.kubeconfig) this.config.loadFromFile(opts.kubeconfig);
    else this.config.loadFromDefault();
    if (opts.context) this.config.setCurrentContext(opts.context);
    this.fieldManager = opts.fieldManager ?? "ramp";
    this.limiter = opts.qps ? new RateLimiter(opts.qps, Math.max(1, opts.burst ?? opts.qps)) : undefined;
    this.onResponse = opts.onResponse;
  }

  get server(): string {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    return cluster.server;
  }

  /** One HTTP call; JSON in and out. Errors from the apiserver become KubeError. */
  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const url = new URL(path, this.server);
    const opts: Parameters<typeof request>[1] = { method, headers: { accept: "application/json" } };
    await this.config.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    if (payload !== undefined) Object.assign(opts.headers ?? {}, { "content-type": contentType });
    const send = url.protocol === "https:" ? request : plainRequest;
    await this.limiter?.take();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, opts, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on("error", reject);
      req.end(payload);
    }).then(
      (answer) => {
        this.onResponse?.(method, answer.status);
        return answer;
      },
      (err: unknown) => {
        this.onResponse?.(method, 0);
        throw err;
      },
    );
    const parsed = parseBody(text);
    if (status >= 400) throw statusError(status, parsed, text);
    return parsed as T;
  }

  /** Streams a watch: calls `onEvent` for each event until the server ends the stream or `signal`
   * aborts. Resolves when the stream ends; rejects on a transport or HTTP error (`onOpen` is told
   * when the server accepted it). */
  async watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, onOpen?: () => void): Promise<void> {
    const url = new URL(path, this.server);
    const opts: Parameters<typeof request>[1] = { method: "GET", headers: { accept: "application/json" }, signal };
    await this.config.applyToHTTPSOptions(opts);
    const send = url.protocol === "https:" ? request : plainRequest;
    await new Promise<void>((resolve, reject) => {
      const req = send(url, opts, (res) => {
        this.onResponse?.("WATCH", res.statusCode ?? 0);
        if ((res.statusCode ?? 0) >= 400) {
          let text = "";
          res.on("data", (c) => (text += c));
          res.on("end", () => reject(statusError(res.statusCode ?? 0, parseBody(text), text)));
          return;
        }
        onOpen?.();
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
            const line = buffer.slice(0, nl).trim();
            buffer = buffer.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent);
          }
        });
        res.on("end", resolve);
        res.on("error", reject);
      });
      req.on("error", (err) => (signal.aborted ? resolve() : reject(err)));
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

  /** A full replace guarded by metadata.resourceVersion: a stale object gets a 409 Conflict. */
  async replace<T extends KubeObject>(obj: T, opts: { subresource?: "status" } = {}): Promise<T> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    return this.request<T>(
      "PUT",
      `${path}${opts.subresource ? `/${opts.subresource}` : ""}?fieldManager=${encodeURIComponent(this.fieldManager)}`,
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
