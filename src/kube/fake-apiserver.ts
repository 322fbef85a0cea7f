// Test-only: an apiserver small enough to read, on 127.0.0.1, for unit tests of what talks to one. It serves
// discovery for the kinds it is given, keeps objects by path, and answers GET, POST, PUT (resourceVersion
// guarded), merge PATCH and DELETE as the real one does for what Ramp sends, and lists and watches
// (all, or one object by fieldSelector metadata.name); every request is logged, a path can be made to
// refuse with any status, any request can be given a chosen answer, and answers can be held back.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient, type KubeClientOptions, type KubeObject } from "./client.ts";

export interface FakeKind {
  apiVersion: string;
  kind: string;
  /** The resource name in paths, e.g. "replicasets". */
  plural: string;
  namespaced?: boolean;
}

export interface FakeRequest {
  /** WATCH for a GET with watch=true. */
  method: string;
  /** Without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body?: unknown;
  /** When it had arrived whole (Date.now()). */
  at: number;
}

/** A chosen answer: `body` as given, else a Status failure with `message` (and the code's reason). */
export interface FakeReply {
  code: number;
  body?: unknown;
  message?: string;
  headers?: Record<string, string>;
}

/** A chosen answer to a request, or undefined to answer it as the apiserver would. */
export type FakeAnswer = (request: FakeRequest) => FakeReply | undefined;

const STATUS_REASONS: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
};

export class FakeApiserver {
  readonly requests: FakeRequest[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly refusals = new Map<string, number>();
  private chosen: FakeAnswer | undefined;
  /** While set, answers wait for it (discovery excepted). */
  private held: PromiseWithResolvers<void> | undefined;
  /** Open watches: the collection each follows, the one name it is limited to, and where its events go. */
  private readonly watches = new Set<{ collection: string; name: string | undefined; res: ServerResponse }>();
  private readonly kinds: FakeKind[];
  private readonly server: Server;
  private version = 100;
  /** How many names generateName has made: the n-th is `${generateName}${n}`. */
  private generated = 0;
  private kubeconfig = "";

  constructor(kinds: FakeKind[]) {
    this.kinds = kinds;
    this.server = createServer((req, res) => {
      void this.serve(req, res);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-fake-apiserver-")), "config");
    writeFileSync(
      this.kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}` } }],
        users: [{ name: "fake", user: {} }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
        "current-context": "fake",
      }),
    );
    return this;
  }

  stop(): Promise<void> {
    this.release();
    for (const w of this.watches) w.res.end();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A client of this apiserver, through a kubeconfig as the controller's is. */
  client(options: Omit<KubeClientOptions, "kubeconfig"> = {}): KubeClient {
    return new KubeClient({ kubeconfig: this.kubeconfig, requestTimeoutMs: 10_000, ...options });
  }

  /** The REST path of an object, as the client builds it. */
  pathOf(apiVersion: string, kind: string, name: string, namespace?: string): string {
    const k = this.kinds.find((x) => x.apiVersion === apiVersion && x.kind === kind);
    if (!k) throw new Error(`the fake apiserver was not given ${kind} (${apiVersion})`);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return `${base}${k.namespaced !== false && namespace ? `/namespaces/${namespace}` : ""}/${k.plural}/${name}`;
  }

  /** Stores objects as they are (a resourceVersion is given where they have none). */
  put(...objs: KubeObject[]): void {
    for (const o of objs) {
      const { apiVersion, kind, metadata } = o;
      const path = this.pathOf(apiVersion, kind, metadata.name ?? "", metadata.namespace);
      const stored = { ...o, metadata: { ...metadata, resourceVersion: metadata.resourceVersion ?? String(this.version++) } };
      this.tell(this.objects.has(path) ? "MODIFIED" : "ADDED", path, stored);
      this.objects.set(path, stored);
    }
  }

  object<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace?: string): T | undefined {
    return this.objects.get(this.pathOf(apiVersion, kind, name, namespace)) as T | undefined;
  }

  /** The objects of a kind, in the order they were first stored. */
  list<T extends KubeObject>(apiVersion: string, kind: string): T[] {
    return [...this.objects.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind) as T[];
  }

  /** Deletes objects, as if another client had. */
  remove(...objs: KubeObject[]): void {
    for (const { apiVersion, kind, metadata } of objs)
      this.drop(this.pathOf(apiVersion, kind, metadata.name ?? "", metadata.namespace));
  }

  /** The number of watches open now. */
  get watching(): number {
    return this.watches.size;
  }

  /** Requests to this path (or a path under it) answer `status` until `allow`. */
  refuse(path: string, status: number): void {
    this.refusals.set(path, status);
  }

  allow(path: string): void {
    this.refusals.delete(path);
  }

  /** Every request after discovery is first offered to `answer` (before any refusal); undefined stops it. */
  answerWith(answer: FakeAnswer | undefined): void {
    this.chosen = answer;
  }

  /** Requests arriving from now on are logged but not answered until release(). */
  hold(): void {
    this.held ??= Promise.withResolvers<void>();
  }

  release(): void {
    this.held?.resolve();
    this.held = undefined;
  }

  /** The requests made after discovery: method and path, in order. */
  get calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname: path, searchParams: query } = new URL(req.url ?? "", "http://fake");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    const discovery = this.discovery(path);
    if (discovery) return send(res, { code: 200, body: discovery });
    const method = query.get("watch") ? "WATCH" : (req.method ?? "GET");
    const request = { method, path, query, headers: req.headers, ...(body !== undefined ? { body } : {}), at: Date.now() };
    this.requests.push(request);
    await this.held?.promise;
    const reply = this.chosen?.(request) ?? this.refusal(path);
    if (reply) return send(res, reply);
    const selector = query.get("fieldSelector");
    const name = selector ? /^metadata\.name=(.+)$/.exec(selector)?.[1] : undefined;
    if (selector && !name)
      return send(res, failure(400, `the fake apiserver knows no fieldSelector but metadata.name=: ${selector}`));
    if (method === "WATCH") return this.watch(path, name, res);
    send(res, this.handle(method, path, body as KubeObject | undefined, name));
  }

  private refusal(path: string): FakeReply | undefined {
    for (const [refused, code] of this.refusals) if (path.startsWith(refused)) return failure(code, `refused ${path}`);
    return undefined;
  }

  private discovery(path: string): unknown {
    const groupVersions = new Set(this.kinds.map((k) => k.apiVersion));
    for (const gv of groupVersions) {
      if (path !== (gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`)) continue;
      const resources = this.kinds
        .filter((k) => k.apiVersion === gv)
        .map((k) => ({ name: k.plural, kind: k.kind, namespaced: k.namespaced !== false }));
      return { resources };
    }
    return undefined;
  }

  /** `name`: a list limited to that object (fieldSelector metadata.name). */
  private handle(method: string, path: string, body: KubeObject | undefined, name: string | undefined): FakeReply {
    const status = path.endsWith("/status");
    const objectPath = status ? path.slice(0, -"/status".length) : path;
    const current = this.objects.get(objectPath);
    switch (method) {
      case "GET": {
        if (current) return { code: 200, body: current };
        const items = [...this.objects].filter(([p]) => inCollection(p, path)).map(([, o]) => o);
        if (!items.length && !this.isCollection(path)) return failure(404, `${path} not found`);
        const selected = items.filter((o) => name === undefined || o.metadata.name === name);
        return { code: 200, body: { items: selected, metadata: { resourceVersion: String(this.version) } } };
      }
      case "POST": {
        if (!body) return failure(400, "no body");
        const named = body.metadata.name ?? `${body.metadata.generateName ?? ""}${++this.generated}`;
        const at = `${path}/${named}`;
        if (this.objects.has(at)) return failure(409, `${named} already exists`, "AlreadyExists");
        return this.store(at, { ...body, metadata: { ...body.metadata, name: named, uid: `uid-${named}` } });
      }
      case "PUT": {
        if (!current) return failure(404, `${path} not found`);
        if (!body) return failure(400, "no body");
        if (body.metadata.resourceVersion !== current.metadata.resourceVersion) return failure(409, `${path} changed`);
        const next = status ? { ...current, status: (body as { status?: unknown }).status } : body;
        return this.store(objectPath, next as KubeObject);
      }
      case "PATCH": {
        if (!current) return failure(404, `${path} not found`);
        const wanted = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        if (wanted && wanted !== current.metadata.resourceVersion) return failure(409, `${path} changed`);
        return this.store(objectPath, mergePatch(current, body) as KubeObject);
      }
      case "DELETE":
        if (!current) return failure(404, `${path} not found`);
        this.drop(objectPath);
        return { code: 200, body: { kind: "Status", status: "Success" } };
      default:
        return failure(400, `method ${method}`);
    }
  }

  /** A watch from now on (the resourceVersion asked for is not replayed): one JSON event per line. */
  private watch(path: string, name: string | undefined, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    const w = { collection: path, name, res };
    this.watches.add(w);
    res.on("close", () => this.watches.delete(w));
  }

  private tell(type: "ADDED" | "MODIFIED" | "DELETED", path: string, object: KubeObject): void {
    for (const w of this.watches) {
      if (!inCollection(path, w.collection) || (w.name !== undefined && w.name !== object.metadata.name)) continue;
      w.res.write(`${JSON.stringify({ type, object })}\n`);
    }
  }

  private drop(path: string): void {
    const current = this.objects.get(path);
    if (!current) return;
    this.objects.delete(path);
    this.tell("DELETED", path, current);
  }

  private isCollection(path: string): boolean {
    return this.kinds.some((k) => path.endsWith(`/${k.plural}`));
  }

  private store(path: string, obj: KubeObject): FakeReply {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.version++) } };
    this.tell(this.objects.has(path) ? "MODIFIED" : "ADDED", path, stored);
    this.objects.set(path, stored);
    return { code: 200, body: stored };
  }
}

/** Whether the object at `path` is in the collection (all namespaces when it names none). */
function inCollection(path: string, collection: string): boolean {
  const namespaced = collection.includes("/namespaces/");
  return (namespaced ? path : path.replace(/\/namespaces\/[^/]+/, "")).startsWith(`${collection}/`);
}

function failure(code: number, message: string, reason = STATUS_REASONS[code] ?? "Unknown"): FakeReply {
  return { code, body: { kind: "Status", status: "Failure", code, reason, message } };
}

function send(res: ServerResponse, { code, body, message, headers }: FakeReply): void {
  const answer = body ?? failure(code, message ?? "refused").body;
  res.writeHead(code, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(answer));
}

/** RFC 7386: objects merge, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
