// core/v1 Events about an object, as Ramp's controllers record them: off the reconcile's path, on a
// client (and rate limit) of their own, the same Event repeated within a while counted on one object
// (client-go's recorder and EventCorrelator). Events are best effort: what must not be lost (a
// notification) goes through the outbox, never through an Event.
import { isNotFound, type KubeClient, KubeError, type KubeObject } from "./client.ts";
import type { Log } from "./log.ts";

export interface EventAbout {
  involved: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string | undefined };
  reason: string;
  message: string;
  warning?: boolean | undefined;
  /** Which replica recorded it. */
  instance: string;
}

/** How often an Event happened, and when first and last. */
export interface Occurrences {
  count: number;
  first: Date;
  last: Date;
}

export function eventObject(about: EventAbout, seen?: Occurrences): KubeObject {
  const { involved, reason, message, warning, instance } = about;
  const now = new Date();
  const { count, first, last } = seen ?? { count: 1, first: now, last: now };
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
    involvedObject: involved,
    reason,
    message,
    type: warning ? "Warning" : "Normal",
    source: { component: "ramp-controller" },
    firstTimestamp: first.toISOString(),
    lastTimestamp: last.toISOString(),
    count,
    reportingComponent: "ramp.dev/controller",
    reportingInstance: instance,
  };
}

/** The rate limit of the recorder's own client: Events never take the tokens of status writes. */
export const EVENT_QPS = 5;
export const EVENT_BURST = 25;

export interface EventRecorderOptions {
  log?: Log;
  /** Distinct Events waiting to be written; a record beyond it is dropped (and counted). */
  maxQueued?: number;
  /** Events remembered for aggregation (least recently seen forgotten first). */
  maxRemembered?: number;
  /** A repeat within this long of the last one is counted on the same Event. */
  aggregateMs?: number;
  /** Writes tried at once (each still takes its token from the client's rate limit). */
  concurrency?: number;
  /** The wait before the first retry of a failed write, doubled for the second. */
  retryDelayMs?: number;
  now?: () => Date;
}

/** Records of one key waiting to be written. */
interface Pending {
  about: EventAbout;
  seen: Occurrences;
}

/** An Event written: its name, for the PATCH of a repeat, and its count so far. */
interface Written {
  name: string;
  count: number;
  last: number;
}

const DEFAULTS = {
  maxQueued: 1000,
  maxRemembered: 4096,
  aggregateMs: 10 * 60_000,
  concurrency: 4,
  retryDelayMs: 1000,
};
/** Tries of one write: the first and two retries. */
const ATTEMPTS = 3;
/** At most one "queue full" line this often, however long the burst of drops. */
const DROP_LOG_EVERY_MS = 60_000;

/** 5xx, 429 and no answer at all are worth another try; any other refusal will not change. */
const transient = (err: unknown) => !(err instanceof KubeError) || err.status >= 500 || err.status === 429;

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly log: Log;
  private readonly limits: typeof DEFAULTS;
  private readonly now: () => Date;
  /** By key, in the order first queued; a key being written is not in it (a repeat meanwhile is). */
  private readonly queued = new Map<string, Pending>();
  private readonly writing = new Set<string>();
  /** By key, least recently written first (the LRU bound). */
  private readonly written = new Map<string, Written>();
  private readonly idle: (() => void)[] = [];
  /** The waits before retries, by timer: stop() ends them at once. */
  private readonly retries = new Map<NodeJS.Timeout, () => void>();
  private stopped = false;
  private dropped = 0;
  private droppedLogged: number | undefined;

  constructor(client: KubeClient, opts: EventRecorderOptions = {}) {
    this.client = client;
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? (() => new Date());
    this.limits = {
      maxQueued: opts.maxQueued ?? DEFAULTS.maxQueued,
      maxRemembered: opts.maxRemembered ?? DEFAULTS.maxRemembered,
      aggregateMs: opts.aggregateMs ?? DEFAULTS.aggregateMs,
      concurrency: opts.concurrency ?? DEFAULTS.concurrency,
      retryDelayMs: opts.retryDelayMs ?? DEFAULTS.retryDelayMs,
    };
  }

  /** Events dropped because the queue was full. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Events queued or being written. */
  get pendingCount(): number {
    return this.queued.size + this.writing.size;
  }

  /** Queues the Event, returning at once; a repeat still waiting is counted on the same write. Never throws. */
  record(about: EventAbout): void {
    if (this.stopped) return;
    const key = keyOf(about);
    const now = this.now();
    const waiting = this.queued.get(key);
    if (waiting) {
      waiting.seen.count++;
      waiting.seen.last = now;
      return;
    }
    if (this.queued.size >= this.limits.maxQueued) {
      this.drop(about, now);
      return;
    }
    this.queued.set(key, { about, seen: { count: 1, first: now, last: now } });
    this.pump();
  }

  /** Resolves once everything queued is written (or given up), or after `timeoutMs`: true if all was. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Forgets what is queued and ignores later records; a write already sent finishes on its own. */
  stop(): void {
    this.stopped = true;
    this.queued.clear();
    for (const [timer, resume] of this.retries) {
      clearTimeout(timer);
      resume();
    }
    this.retries.clear();
    this.settle();
  }

  private isIdle(): boolean {
    return this.queued.size === 0 && this.writing.size === 0;
  }

  private settle(): void {
    if (this.isIdle()) for (const done of this.idle.splice(0)) done();
  }

  private drop(about: EventAbout, now: Date): void {
    this.dropped++;
    if (this.droppedLogged !== undefined && now.getTime() - this.droppedLogged < DROP_LOG_EVERY_MS) return;
    this.droppedLogged = now.getTime();
    const { kind, namespace, name } = about.involved;
    this.log(
      `Event queue full (${this.limits.maxQueued} Events waiting): dropped ${about.reason} for ${kind} ${namespace}/${name}; ${this.dropped} dropped so far`,
      "warn",
    );
  }

  /** Starts writes while there are keys waiting that are not being written, up to the concurrency. */
  private pump(): void {
    for (const [key, pending] of this.queued) {
      if (this.writing.size >= this.limits.concurrency) return;
      if (this.writing.has(key)) continue;
      this.queued.delete(key);
      this.writing.add(key);
      void this.write(key, pending).finally(() => {
        this.writing.delete(key);
        this.pump();
        this.settle();
      });
    }
  }

  /** One write of a key's records, retried a couple of times on a transient failure; logs, never throws. */
  private async write(key: string, pending: Pending): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(key, pending);
      } catch (err) {
        const { kind, namespace, name } = pending.about.involved;
        const what = `event ${pending.about.reason} for ${kind} ${namespace}/${name}`;
        const last = attempt >= ATTEMPTS || !transient(err);
        if (!last) await this.pause(this.limits.retryDelayMs * 2 ** (attempt - 1));
        if (last || this.stopped) {
          this.log(`${what}: ${(err as Error).message}${attempt > 1 ? ` (after ${attempt} tries)` : ""}`, "warn");
          return;
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        resolve();
      }, ms);
      this.retries.set(timer, resolve);
    });
  }

  /** A repeat of an Event written within the window PATCHes its count; else (or if it expired) a new one. */
  private async send(key: string, { about, seen }: Pending): Promise<void> {
    const before = this.written.get(key);
    if (before && seen.first.getTime() - before.last <= this.limits.aggregateMs) {
      const count = before.count + seen.count;
      try {
        await this.client.patch("v1", "Event", before.name, about.involved.namespace, {
          count,
          lastTimestamp: seen.last.toISOString(),
        });
        return this.remember(key, { name: before.name, count, last: seen.last.getTime() });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.written.delete(key);
      }
    }
    const created = await this.client.create(eventObject(about, seen));
    this.remember(key, { name: String(created.metadata.name), count: seen.count, last: seen.last.getTime() });
  }

  private remember(key: string, written: Written): void {
    this.written.delete(key);
    this.written.set(key, written);
    for (const oldest of this.written.keys()) {
      if (this.written.size <= this.limits.maxRemembered) break;
      this.written.delete(oldest);
    }
  }
}

/** What makes two records the same Event: the object, the type, the reason and the message. */
function keyOf({ involved, warning, reason, message }: EventAbout): string {
  return JSON.stringify([involved.uid ?? "", involved.kind, involved.namespace, involved.name, !!warning, reason, message]);
}
