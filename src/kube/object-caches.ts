// Caches of the kinds a controller reads only for some of its objects (a router's routes, Ingresses,
// TrafficSplits), each started the first time one of them is read, so a cluster without a kind's CRD
// (or a Rollout that never routes through it) costs nothing. Until a cache is filled, and for an
// object it has not seen, reads go to the apiserver; what is written is remembered at once, and a
// change made by someone else (a Gateway accepting a route) tells whoever read the object.
import type { KubeClient, KubeObject } from "./client.ts";
import { isNotFound } from "./client.ts";
import { Informer } from "./informer.ts";
import type { Log } from "./log.ts";

/** How a reader of other controllers' objects sees them. */
export interface ObjectReader {
  /** The object, or undefined when it does not exist; a kind the cluster does not serve throws
   * (KubeError 404 "the server does not serve ..."). */
  get<T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace: string): Promise<T | undefined>;
  list<T extends KubeObject>(apiVersion: string, kind: string, namespace: string): Promise<T[]>;
  /** What was just written, so the next read sees it before the watch brings it. */
  remember(obj: KubeObject): void;
}

/** Reads straight from the apiserver: for callers that keep no caches. */
export function apiserverReader(client: KubeClient): ObjectReader {
  return {
    get: async <T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace: string) => {
      try {
        return await client.get<T>(apiVersion, kind, name, namespace);
      } catch (err) {
        if (isNotFound(err) && !servedNot(err)) return undefined;
        throw err;
      }
    },
    list: <T extends KubeObject>(apiVersion: string, kind: string, namespace: string) =>
      client.list<T>(apiVersion, kind, namespace),
    remember: () => undefined,
  };
}

/** KubeClient answers 404 both for a missing object and for a kind the cluster does not serve. */
const servedNot = (err: unknown) => (err as Error).message.startsWith("the server does not serve");

export interface ObjectCachesOptions {
  /** Cache only this namespace (a namespaced install); objects elsewhere are read from the apiserver. */
  namespace?: string;
  /** Told, with the keys of whoever read it, when an object changes other than by our own write. */
  onChange?: (readers: string[]) => void;
  log?: Log;
}

const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
const objectId = (apiVersion: string, kind: string, namespace: string | undefined, name: string | undefined) =>
  `${apiVersion}/${kind}/${namespace ?? ""}/${name ?? ""}`;

export class ObjectCaches {
  private readonly client: KubeClient;
  private readonly opts: ObjectCachesOptions;
  private readonly caches = new Map<string, Promise<Informer<KubeObject>>>();
  /** Object id -> the keys of those who read it (told of its changes). */
  private readonly readers = new Map<string, Set<string>>();
  /** Object id -> the resourceVersion we wrote, so our own write coming back tells no one. */
  private readonly written = new Map<string, string>();
  private stopped = false;

  constructor(client: KubeClient, opts: ObjectCachesOptions = {}) {
    this.client = client;
    this.opts = opts;
  }

  /** A reader whose reads are remembered as `key`'s, so `key` is told when those objects change. */
  readerFor(key: string): ObjectReader {
    const fallback = apiserverReader(this.client);
    return {
      get: async <T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace: string) => {
        this.interest(objectId(apiVersion, kind, namespace, name), key);
        const cache = await this.cacheOf(apiVersion, kind, namespace);
        const cached = cache?.hasSynced ? cache.get(`${namespace}/${name}`) : undefined;
        if (cached) return cached as T;
        const read = await fallback.get<T>(apiVersion, kind, name, namespace);
        if (read) cache?.remember(read);
        return read;
      },
      list: async <T extends KubeObject>(apiVersion: string, kind: string, namespace: string) => {
        this.interest(objectId(apiVersion, kind, namespace, ""), key);
        const cache = await this.cacheOf(apiVersion, kind, namespace);
        if (!cache?.hasSynced) return fallback.list<T>(apiVersion, kind, namespace);
        return cache.list().filter((o) => o.metadata.namespace === namespace) as T[];
      },
      remember: (obj) => {
        const { apiVersion, kind, metadata } = obj;
        this.written.set(objectId(apiVersion, kind, metadata.namespace, metadata.name), String(metadata.resourceVersion ?? ""));
        // A kind whose discovery failed has no cache to remember in (and must not reject unheard).
        void this.caches
          .get(kindKey(apiVersion, kind))
          ?.then((c) => c.remember(obj))
          .catch(() => undefined);
      },
    };
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.caches.values()) void c.then((i) => i.stop()).catch(() => undefined);
  }

  private interest(id: string, key: string): void {
    const known = this.readers.get(id) ?? new Set<string>();
    known.add(key);
    this.readers.set(id, known);
  }

  /** The kind's cache, started (in the background) on first use; undefined for a namespace it does
   * not cover. Throws for a kind the cluster does not serve, and asks discovery again next time. */
  private async cacheOf(apiVersion: string, kind: string, namespace: string): Promise<Informer<KubeObject> | undefined> {
    if (this.stopped || (this.opts.namespace && namespace !== this.opts.namespace)) return undefined;
    const key = kindKey(apiVersion, kind);
    let found = this.caches.get(key);
    if (!found) {
      found = this.client.path(apiVersion, kind).then(() => this.started(apiVersion, kind));
      found.catch(() => this.caches.delete(key));
      this.caches.set(key, found);
    }
    return found;
  }

  private started(apiVersion: string, kind: string): Informer<KubeObject> {
    const informer = new Informer<KubeObject>(this.client, {
      apiVersion,
      kind,
      ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
      // The first list tells of everything: nothing changed for those who read it.
      onChange: (_type, obj) => {
        if (informer.hasSynced) this.changed(obj);
      },
      onError: (err) => this.opts.log?.(`list/watch of ${kind} failed, retrying: ${(err as Error).message}`, "warn"),
    });
    // Not awaited: reads go to the apiserver until it has filled.
    informer.start().catch((err: unknown) => this.opts.log?.(`cache of ${kind}: ${(err as Error).message}`, "warn"));
    return informer;
  }

  private changed(obj: KubeObject): void {
    const { apiVersion, kind, metadata } = obj;
    const id = objectId(apiVersion, kind, metadata.namespace, metadata.name);
    if (this.written.get(id) === String(metadata.resourceVersion ?? "")) return;
    const readers = [
      ...(this.readers.get(id) ?? []),
      ...(this.readers.get(objectId(apiVersion, kind, metadata.namespace, "")) ?? []),
    ];
    if (readers.length) this.opts.onChange?.(readers);
  }
}
