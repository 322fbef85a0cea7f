// Test-only: an apiserver small enough to read, on 127.0.0.1, for the shell's unit tests. It serves
// discovery for the kinds it is given, keeps objects by path, and answers GET, POST, PUT (resourceVersion
// guarded), merge PATCH and DELETE as the real one does for what Ramp sends; every request is logged,
// and a path can be made to refuse with any status.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeClient, type KubeObject } from "./client.ts";

export interface FakeKind {
  apiVersion: string;
  kind: string;
  /** The resource name in paths, e.g. "replicasets". */
  plural: string;
  namespaced?: boolean;
}

export interface FakeRequest {
  method: string;
  /** Without the query. */
  path: string;
  body?: unknown;
}

const STATUS_REASONS: Record<number, string> = {
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  422: "Invalid",
  500: "InternalError",
};

export class FakeApiserver {
  readonly requests: FakeRequest[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly refusals = new Map<string, number>();
  /** Open watches: the collection each follows, and where its events go. */
  private readonly watches = new Set<{ collection: string; res: ServerResponse }>();
  private readonly kinds: FakeKind[];
  private readonly server: Server;
  private version = 100;
  private url = "";

  constructor(kinds: FakeKind[]) {
    this.kinds = kinds;
    this.server = createServer((req, res) => {
      const [path = "", query = ""] = (req.url ?? "").split("?");
      if (new URLSearchParams(query).get("watch")) return this.watch(path, res);
      void this.answer(req).then(({ code, body }) => {
        res.writeHead(code, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop(): Promise<void> {
    for (const w of this.watches) w.res.end();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A client of this apiserver, through a kubeconfig as the controller's is. */
  client(): KubeClient {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-fake-apiserver-")), "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: this.url } }],
        users: [{ name: "fake", user: {} }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
        "current-context": "fake",
      }),
    );
    return new KubeClient({ kubeconfig, requestTimeoutMs: 10_000 });
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

  /** Requests to this path (or a path under it) answer `status` until `allow`. */
  refuse(path: string, status: number): void {
    this.refusals.set(path, status);
  }

  allow(path: string): void {
    this.refusals.delete(path);
  }

  /** The requests made after discovery: method and path, in order. */
  get calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  private async answer(req: IncomingMessage): Promise<{ code: number; body: unknown }> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    const discovery = this.discovery(path);
    if (discovery) return { code: 200, body: discovery };
    this.requests.push({ method: req.method ?? "", path, ...(body !== undefined ? { body } : {}) });
    for (const [refused, code] of this.refusals) if (path.startsWith(refused)) return failure(code, `refused ${path}`);
    return this.handle(req.method ?? "GET", path, body as KubeObject | undefined);
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

  private handle(method: string, path: string, body: KubeObject | undefined): { code: number; body: unknown } {
    const status = path.endsWith("/status");
    const objectPath = status ? path.slice(0, -"/status".length) : path;
    const current = this.objects.get(objectPath);
    switch (method) {
      case "GET": {
        if (current) return { code: 200, body: current };
        const items = [...this.objects].filter(([p]) => inCollection(p, path)).map(([, o]) => o);
        if (!items.length && !this.isCollection(path)) return failure(404, `${path} not found`);
        return { code: 200, body: { items, metadata: { resourceVersion: String(this.version) } } };
      }
      case "POST": {
        if (!body) return failure(400, "no body");
        const name = body.metadata.name ?? `${body.metadata.generateName ?? ""}${this.version}`;
        const at = `${path}/${name}`;
        if (this.objects.has(at)) return failure(409, `${name} already exists`, "AlreadyExists");
        return this.store(at, { ...body, metadata: { ...body.metadata, name, uid: `uid-${name}` } });
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
        this.objects.delete(objectPath);
        this.tell("DELETED", objectPath, current);
        return { code: 200, body: { kind: "Status", status: "Success" } };
      default:
        return failure(400, `method ${method}`);
    }
  }

  /** A watch from now on (the resourceVersion asked for is not replayed): one JSON event per line. */
  private watch(path: string, res: ServerResponse): void {
    this.requests.push({ method: "WATCH", path });
    res.writeHead(200, { "content-type": "application/json" });
    res.flushHeaders();
    const w = { collection: path, res };
    this.watches.add(w);
    res.on("close", () => this.watches.delete(w));
  }

  private tell(type: "ADDED" | "MODIFIED" | "DELETED", path: string, object: KubeObject): void {
    for (const w of this.watches) if (inCollection(path, w.collection)) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private isCollection(path: string): boolean {
    return this.kinds.some((k) => path.endsWith(`/${k.plural}`));
  }

  private store(path: string, obj: KubeObject): { code: number; body: unknown } {
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

function failure(code: number, message: string, reason = STATUS_REASONS[code] ?? "Unknown"): { code: number; body: unknown } {
  return { code, body: { kind: "Status", status: "Failure", code, reason, message } };
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
