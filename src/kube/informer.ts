// A cache of one kind, kept current by list + watch: relists when the apiserver says the
// resourceVersion is too old (410 Gone), resumes when a watch ends, backs off on errors.
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClient, KubeObject, WatchEvent } from "./client.ts";

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface InformerOptions<T> {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=web` (one Rollout, as `ramp status -w` watches it) or
   * `involvedObject.apiVersion=ramp.dev/v1alpha1` (only the Events about Ramp's kinds). */
  fieldSelector?: string;
  onChange?: (type: ChangeType, obj: T) => void;
  /** Told of a failed list or watch (a 403 names the verb and the resource), once until it works
   * again; the informer keeps trying. */
  onError?: (err: unknown) => void;
  /** Told of every watch that failed and is restarted (each time, unlike onError), e.g. to count them. */
  onWatchFailure?: (kind: string) => void;
  /** Every this long, report every cached object as MODIFIED, changed or not (client-go's resync,
   * from the cache: no request), so time-based decisions are looked at again. A connection that
   * went silent is the watch's to notice (watch-session.ts), not a relist's. Default 15 minutes
   * (Argo Rollouts' --rollout-resync); 0 turns it off. */
  resyncMs?: number;
  /** Applied to every object before it is cached or told of: what no reader needs is dropped there
   * (withoutBookkeeping), so the cache does not hold it for the life of the process. */
  transform?: (obj: T) => T;
  /** Named index functions (client-go's Indexers): each gives the values an object is found under
   * with byIndex, e.g. its controller's uid, so a lookup by owner needs no scan of the cache. */
  indexers?: Record<string, (obj: T) => string[]>;
}

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** An object without metadata.managedFields, the apiserver's bookkeeping (often larger than the rest
 * of the object), read by no controller. Safe for objects sent back whole: a PUT that omits
 * managedFields leaves them as they are. */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  const { managedFields: _, ...metadata } = obj.metadata;
  obj.metadata = metadata as T["metadata"];
  return obj;
}

/** An object without metadata.managedFields and kubectl's last-applied annotation: the apiserver's
 * and kubectl's bookkeeping, read by no controller. Only for caches whose objects are never sent
 * back whole (a PUT without the annotation would drop it). */
export function withoutBookkeeping<T extends KubeObject>(obj: T): T {
  const { metadata } = withoutManagedFields(obj);
  const annotations = metadata.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _applied, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return obj;
}

export const DEFAULT_RESYNC_MS = 900_000;

/** The apiserver is asked to end a watch after 5 to 10 minutes, spread as client-go's reflector
 * spreads them, so the watches of many clients do not all start again at once. */
export const watchTimeoutSeconds = (random = Math.random()): number => Math.floor(300 * (1 + random));

export const objectKey = (o: KubeObject) =>
  o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`;

const resourceVersion = (o: KubeObject) => String(o.metadata.resourceVersion ?? "");
// resourceVersions are opaque, but etcd-backed apiservers hand out increasing integers; when both
// are, the larger is newer; otherwise assume the one just written is.
const newer = (a: string, b: string) => /^\d+$/.test(a) && /^\d+$/.test(b) && BigInt(a) > BigInt(b);

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  /** index name → value → keys of the objects under it, kept with the cache on every change. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly abort = new AbortController();
  private version = "";
  private synced = false;
  private failure: string | undefined;
  private readonly client: KubeClient;
  private readonly opts: InformerOptions<T>;

  constructor(client: KubeClient, opts: InformerOptions<T>) {
    this.client = client;
    this.opts = opts;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Why the cache may be stale: the last list or watch failed, until one succeeds again. */
  get problem(): string | undefined {
    return this.failure;
  }

  private failed(err: unknown): void {
    const message = (err as Error).message;
    if (message !== this.failure) this.opts.onError?.(err);
    this.failure = message;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The cached objects an index function put under this value. */
  byIndex(index: string, value: string): T[] {
    const keys = this.indices.get(index)?.get(value);
    return keys ? [...keys].flatMap((k) => this.cache.get(k) ?? []) : [];
  }

  private put(key: string, obj: T): void {
    this.drop(key);
    this.cache.set(key, obj);
    for (const [name, values] of Object.entries(this.opts.indexers ?? {})) {
      const index = this.indices.get(name) ?? new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const value of values(obj)) index.set(value, (index.get(value) ?? new Set()).add(key));
    }
  }

  private drop(key: string): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.cache.delete(key);
    for (const [name, values] of Object.entries(this.opts.indexers ?? {})) {
      const index = this.indices.get(name);
      for (const value of values(old)) {
        const keys = index?.get(value);
        keys?.delete(key);
        if (keys && !keys.size) index?.delete(value);
      }
    }
  }

  /** Keeps an object this process just wrote, so the next reconcile sees it before its watch event
   * arrives (never replacing a newer one the watch already brought). */
  remember(written: T): void {
    const obj = this.opts.transform ? this.opts.transform(written) : written;
    obj.apiVersion ??= this.opts.apiVersion;
    obj.kind ??= this.opts.kind;
    const old = this.cache.get(objectKey(obj));
    if (old && newer(resourceVersion(old), resourceVersion(obj))) return;
    this.put(objectKey(obj), obj);
  }

  /** Drops an object this process just deleted. */
  forget(obj: KubeObject): void {
    this.drop(objectKey(obj));
  }

  /** Lists, then watches in the background until stop(). Resolves once the cache is filled; a list
   * that fails (the apiserver starting, a CRD not served yet) is retried with backoff, as client-go's
   * reflector does, rather than leaving a controller with no cache. */
  async start(): Promise<void> {
    for (let backoff = 100; ; backoff = Math.min(backoff * 2, 5_000)) {
      try {
        await this.relist();
        break;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.failed(err);
        await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
    this.synced = true;
    void this.watchLoop();
    void this.resyncLoop();
  }

  stop(): void {
    this.abort.abort();
  }

  private query(extra: Record<string, string>): string {
    const params = new URLSearchParams(extra);
    if (this.opts.labelSelector) params.set("labelSelector", this.opts.labelSelector);
    if (this.opts.fieldSelector) params.set("fieldSelector", this.opts.fieldSelector);
    return params.toString();
  }

  private async resyncLoop(): Promise<void> {
    const every = this.opts.resyncMs ?? DEFAULT_RESYNC_MS;
    if (!every) return;
    while (!this.abort.signal.aborted) {
      try {
        await sleep(every, undefined, { signal: this.abort.signal });
      } catch {
        return; // stopped
      }
      for (const obj of [...this.cache.values()]) this.opts.onChange?.("MODIFIED", obj);
    }
  }

  /** Replaces the cache with a fresh list, telling of what changed. */
  private async relist(): Promise<void> {
    const path = await this.client.path(this.opts.apiVersion, this.opts.kind, this.opts.namespace);
    const list = await this.client.request<{ items: T[]; metadata: { resourceVersion: string } }>(
      "GET",
      `${path}?${this.query({})}`,
    );
    const seen = new Set<string>();
    for (const listed of list.items) {
      const item = this.opts.transform ? this.opts.transform(listed) : listed;
      item.apiVersion ??= this.opts.apiVersion;
      item.kind ??= this.opts.kind;
      const key = objectKey(item);
      seen.add(key);
      const old = this.cache.get(key);
      this.put(key, item);
      if (!old) this.opts.onChange?.("ADDED", item);
      else if (resourceVersion(old) !== resourceVersion(item)) this.opts.onChange?.("MODIFIED", item);
    }
    for (const [key, old] of this.cache) {
      if (!seen.has(key)) {
        this.drop(key);
        this.opts.onChange?.("DELETED", old);
      }
    }
    this.version = list.metadata.resourceVersion;
    this.failure = undefined;
  }

  private handle(event: WatchEvent): "gone" | undefined {
    if (event.type === "ERROR") return event.object.code === 410 ? "gone" : undefined;
    const received = event.object as unknown as T;
    const obj = event.type === "BOOKMARK" || !this.opts.transform ? received : this.opts.transform(received);
    this.version = resourceVersion(obj) || this.version;
    if (event.type === "BOOKMARK") return undefined;
    obj.apiVersion ??= this.opts.apiVersion;
    obj.kind ??= this.opts.kind;
    const cached = this.cache.get(objectKey(obj));
    if (event.type === "DELETED") this.drop(objectKey(obj));
    else if (!cached || !newer(resourceVersion(cached), resourceVersion(obj))) this.put(objectKey(obj), obj);
    this.opts.onChange?.(event.type, obj);
    return undefined;
  }

  private async watchLoop(): Promise<void> {
    let backoff = 100;
    while (!this.abort.signal.aborted) {
      try {
        const path = await this.client.path(this.opts.apiVersion, this.opts.kind, this.opts.namespace);
        let gone = false;
        const query = this.query({
          watch: "1",
          resourceVersion: this.version,
          allowWatchBookmarks: "true",
          timeoutSeconds: String(watchTimeoutSeconds()),
        });
        await this.client.watch(
          `${path}?${query}`,
          (e) => {
            gone ||= this.handle(e) === "gone";
          },
          this.abort.signal,
          () => {
            this.failure = undefined;
          },
        );
        if (gone) await this.relist();
        backoff = 100;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        // 410 Gone: the resourceVersion expired, as it does; anything else is worth telling.
        if ((err as { status?: number }).status === 410) await this.relist().catch((e: unknown) => this.failed(e));
        else this.failed(err);
        this.opts.onWatchFailure?.(this.opts.kind);
        await sleep(backoff, undefined, { signal: this.abort.signal }).catch(() => undefined);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
}
