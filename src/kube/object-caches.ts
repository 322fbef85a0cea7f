// Caches of the kinds a controller reads only for some of its objects (a router's routes, Ingresses,
// TrafficSplits), each started the first time one of them is read, so a cluster without a kind's CRD
// (or a Rollout that never routes through it) costs nothing. Until a cache is filled, and for an
// object it has not seen, reads go to the apiserver; what is written is remembered at once, and a
// change made by someone else (a Gateway accepting a route) tells whoever read the object: at once,
// unless it keeps undoing their writes (another controller fighting over it), then with backoff.
import type { KubeClient, KubeObject } from "./client.ts";
import { isNotFound } from "./client.ts";
import { type ChangeType, Informer, objectKey, withoutManagedFields } from "./informer.ts";
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
  /** Told, for each reader of an object changed other than by our own write, how soon to wake it. */
  onChange?: (reader: string, delayMs: number) => void;
  /** Told of each failed list or watch of a cache, by kind (ramp_watch_failures_total). */
  onWatchFailure?: (kind: string) => void;
  log?: Log;
  /** The clock wakes are timed by, in milliseconds (Date.now). */
  now?: () => number;
}

/** How wakes back off while another writer keeps undoing a reader's writes. */
export interface WakeBackoff {
  baseMs: number;
  maxMs: number;
  /** A rival change this long after the last wake fell due starts over: at once. Longer than a
   * rival controller takes to react, shorter than the pause between a rollout's steps. */
  quietMs: number;
}

export const WAKE_BACKOFF: WakeBackoff = { baseMs: 100, maxMs: 30_000, quietMs: 5_000 };

/** A reader's wakes by rival changes: how many in a row, and when the last falls due. */
export interface Wakes {
  streak: number;
  dueAt: number;
}

/** A reader's wakes after a change to an object it read. A rival change (the object's spec changed
 * again after our own write) wakes at once the first time, then after a delay doubling each time
 * until it has been quiet a while; any other change wakes at once, but no earlier than a wake
 * already put off (the fight would go on through it). */
export function nextWake(last: Wakes | undefined, rival: boolean, now: number, policy = WAKE_BACKOFF): Wakes | undefined {
  if (!rival) return last;
  const streak = last && now - last.dueAt < policy.quietMs ? last.streak + 1 : 0;
  const delayMs = streak === 0 ? 0 : Math.min(policy.maxMs, policy.baseMs * 2 ** (streak - 1));
  return { streak, dueAt: now + delayMs };
}

export const wakeDelay = (wakes: Wakes | undefined, now: number): number => Math.max(0, (wakes?.dueAt ?? now) - now);

/** What readers were last shown of an object, and whether its spec was last changed by our write. */
interface Seen {
  version: string;
  generation: unknown;
  ours: boolean;
}

const kindKey = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
const objectId = (apiVersion: string, kind: string, namespace: string | undefined, name: string | undefined) =>
  `${apiVersion}/${kind}/${namespace ?? ""}/${name ?? ""}`;
const idOf = ({ apiVersion, kind, metadata }: KubeObject) => objectId(apiVersion, kind, metadata.namespace, metadata.name);
/** What a list of the object's namespace is remembered as. */
const listIdOf = ({ apiVersion, kind, metadata }: KubeObject) => objectId(apiVersion, kind, metadata.namespace, "");
const versionOf = (o: KubeObject) => String(o.metadata.resourceVersion ?? "");

/** Who read what, kept both ways so that either side can go: an object deleted, a reader gone. */
class Readers {
  private readonly byObject = new Map<string, Set<string>>();
  private readonly byReader = new Map<string, Set<string>>();

  add(id: string, reader: string): void {
    this.byObject.set(id, (this.byObject.get(id) ?? new Set()).add(reader));
    this.byReader.set(reader, (this.byReader.get(reader) ?? new Set()).add(id));
  }

  of(id: string): Iterable<string> {
    return this.byObject.get(id) ?? [];
  }

  dropObject(id: string): void {
    drop(this.byObject, this.byReader, id);
  }

  dropReader(reader: string): void {
    drop(this.byReader, this.byObject, reader);
  }
}

/** Removes `key` from `from`, and from the sets of `to` that name it. */
function drop(from: Map<string, Set<string>>, to: Map<string, Set<string>>, key: string): void {
  for (const other of from.get(key) ?? []) {
    const back = to.get(other);
    back?.delete(key);
    if (!back?.size) to.delete(other);
  }
  from.delete(key);
}

export class ObjectCaches {
  private readonly client: KubeClient;
  private readonly opts: ObjectCachesOptions;
  private readonly now: () => number;
  private readonly caches = new Map<string, Promise<Informer<KubeObject>>>();
  private readonly started: Informer<KubeObject>[] = [];
  private readonly readers = new Readers();
  /** Object id -> what its readers were last shown, for every object cached: a resync, or our own
   * write coming back, is no change. */
  private readonly seen = new Map<string, Seen>();
  /** Reader -> its wakes by rival changes. */
  private readonly wakes = new Map<string, Wakes>();
  private stopped = false;

  constructor(client: KubeClient, opts: ObjectCachesOptions = {}) {
    this.client = client;
    this.opts = opts;
    this.now = opts.now ?? Date.now;
  }

  /** A reader whose reads are remembered as `key`'s, so `key` is told when those objects change. */
  readerFor(key: string): ObjectReader {
    const fallback = apiserverReader(this.client);
    return {
      get: async <T extends KubeObject>(apiVersion: string, kind: string, name: string, namespace: string) => {
        const cache = await this.cacheOf(apiVersion, kind, namespace);
        if (!cache) return fallback.get<T>(apiVersion, kind, name, namespace);
        this.readers.add(objectId(apiVersion, kind, namespace, name), key);
        const cached = cache.hasSynced ? cache.get(`${namespace}/${name}`) : undefined;
        if (cached) return cached as T;
        const read = await fallback.get<T>(apiVersion, kind, name, namespace);
        if (read) {
          cache.remember(read);
          this.saw(read, false);
        }
        return read;
      },
      list: async <T extends KubeObject>(apiVersion: string, kind: string, namespace: string) => {
        const cache = await this.cacheOf(apiVersion, kind, namespace);
        if (cache) this.readers.add(objectId(apiVersion, kind, namespace, ""), key);
        if (!cache?.hasSynced) return fallback.list<T>(apiVersion, kind, namespace);
        return cache.list().filter((o) => o.metadata.namespace === namespace) as T[];
      },
      remember: (obj) => {
        if (!this.covers(obj.metadata.namespace ?? "")) return;
        // A kind whose discovery failed has no cache to remember in (and must not reject unheard).
        void this.caches
          .get(kindKey(obj.apiVersion, obj.kind))
          ?.then((c) => {
            c.remember(obj);
            this.saw(obj, true);
          })
          .catch(() => undefined);
      },
    };
  }

  /** Forgets what `key` read, e.g. once its Rollout is deleted. */
  forgetReader(key: string): void {
    this.readers.dropReader(key);
    this.wakes.delete(key);
  }

  /** Why a cache cannot be kept current (its list or watch refused), for readiness. */
  get problems(): string[] {
    return this.started.flatMap((i) => i.problem ?? []);
  }

  stop(): void {
    this.stopped = true;
    for (const i of this.started) i.stop();
  }

  private covers(namespace: string): boolean {
    return !this.stopped && (!this.opts.namespace || namespace === this.opts.namespace);
  }

  private saw(obj: KubeObject, ours: boolean): void {
    this.seen.set(idOf(obj), { version: versionOf(obj), generation: obj.metadata.generation, ours });
  }

  /** The kind's cache, started (in the background) on first use; undefined for a namespace it does
   * not cover. Throws for a kind the cluster does not serve, and asks discovery again next time. */
  private async cacheOf(apiVersion: string, kind: string, namespace: string): Promise<Informer<KubeObject> | undefined> {
    if (!this.covers(namespace)) return undefined;
    const key = kindKey(apiVersion, kind);
    let found = this.caches.get(key);
    if (!found) {
      found = this.client.path(apiVersion, kind).then(() => this.start(apiVersion, kind));
      found.catch(() => this.caches.delete(key));
      this.caches.set(key, found);
    }
    return found;
  }

  private start(apiVersion: string, kind: string): Informer<KubeObject> {
    const { onWatchFailure, log } = this.opts;
    const informer: Informer<KubeObject> = new Informer<KubeObject>(this.client, {
      apiVersion,
      kind,
      ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
      // Not withoutBookkeeping: routers PUT these objects back, and kubectl's annotation must stay.
      transform: withoutManagedFields,
      onChange: (type, obj) => this.changed(informer, type, obj),
      onError: (err) => {
        log?.(`list/watch of ${kind} failed, retrying: ${(err as Error).message}`, "warn");
        // A list refused before the cache fills is retried inside start(), which counts no watch failure.
        if (!informer.hasSynced) onWatchFailure?.(kind);
      },
      ...(onWatchFailure ? { onWatchFailure } : {}),
    });
    // Discovery answered after stop(): nothing to start.
    if (this.stopped) return informer;
    this.started.push(informer);
    // Not awaited: reads go to the apiserver until it has filled.
    informer.start().catch((err: unknown) => log?.(`cache of ${kind}: ${(err as Error).message}`, "warn"));
    return informer;
  }

  private changed(informer: Informer<KubeObject>, type: ChangeType, obj: KubeObject): void {
    const id = idOf(obj);
    if (type === "DELETED") {
      this.seen.delete(id);
      this.wake(informer, obj, false);
      this.readers.dropObject(id);
      return;
    }
    // The cache kept a newer version (our write, remembered before this event came).
    if (versionOf(informer.get(objectKey(obj)) ?? obj) !== versionOf(obj)) return;
    const last = this.seen.get(id);
    if (last?.version === versionOf(obj)) return;
    // Our write undone: its spec changed again (a status-only change keeps the generation).
    const rival = last?.ours === true && last.generation !== obj.metadata.generation;
    this.saw(obj, last?.ours === true && !rival);
    this.wake(informer, obj, rival);
  }

  private wake(informer: Informer<KubeObject>, obj: KubeObject, rival: boolean): void {
    // The first list tells of everything: nothing changed for those who read it.
    if (!informer.hasSynced) return;
    const now = this.now();
    for (const reader of new Set([...this.readers.of(idOf(obj)), ...this.readers.of(listIdOf(obj))])) {
      const wakes = nextWake(this.wakes.get(reader), rival, now);
      if (wakes) this.wakes.set(reader, wakes);
      this.opts.onChange?.(reader, wakeDelay(wakes, now));
    }
  }
}
