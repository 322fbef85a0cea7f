// The durable outbox: deliveries not yet made, kept in a ConfigMap per namespace (`ramp-outbox`),
// one data key per delivery (`<idempotency key>.<kind>.<destination>`). Inserts are guarded by the
// resourceVersion, so a delivery id already there (pending, or done within the last hour) is never
// added twice. Only payloads and destination names are stored: URLs and keys are read at send time.
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from "../kube/client.ts";
import type { NotificationPayload } from "./payload.ts";

export const OUTBOX_LABEL = "ramp.dev/outbox";
/** Done deliveries are remembered this long, so re-planning a transition does not send it again. */
export const DONE_TTL_MS = 3_600_000;
/** Kept well under the 1 MiB a ConfigMap may hold (counted in UTF-8 bytes, as etcd stores it). */
export const MAX_OUTBOX_BYTES = 800_000;

/** A data key's share of the ConfigMap: its key and value in UTF-8 bytes (a string's length
 * counts UTF-16 units, so a payload of non-Latin text would be undercounted up to 3 times). */
export const entryBytes = (key: string, value: string) => Buffer.byteLength(key) + Buffer.byteLength(value);

export interface OutboxEntry {
  id: string;
  /** `<kind>:<name>`, resolved from the notifications ConfigMap at each attempt. */
  destination: string;
  payload: NotificationPayload;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAt: string;
  /** Order of enqueueing: deliveries of one rollout to one destination go in this order. */
  seq: number;
  lastError?: string;
}

interface Done {
  doneAt: string;
  outcome: "delivered" | "dead-lettered";
}

type ConfigMap = KubeObject & {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  data?: Record<string, string>;
};

export const outboxName = (instanceId?: string) => (instanceId ? `ramp-outbox-${instanceId}` : "ramp-outbox");

export const deliveryId = (idempotencyKey: string, destination: string) => `${idempotencyKey}.${destination.replace(":", ".")}`;

export function encodeEntry(e: OutboxEntry): string {
  const { id: _id, ...stored } = e;
  return JSON.stringify(stored);
}

export interface DecodedOutbox {
  pending: OutboxEntry[];
  /** Done deliveries' ids, with when they were done (ms). */
  done: Map<string, number>;
  /** Keys whose values are not entries (hand-edited, or from a future version): dropped on the next insert. */
  unreadable: string[];
}

export function decodeOutbox(data: Readonly<Record<string, string>>): DecodedOutbox {
  const out: DecodedOutbox = { pending: [], done: new Map(), unreadable: [] };
  for (const [id, text] of Object.entries(data)) {
    try {
      const v = JSON.parse(text) as Partial<OutboxEntry & Done>;
      if (typeof v.doneAt === "string") out.done.set(id, Date.parse(v.doneAt));
      else if (typeof v.payload?.rollout?.name === "string" && typeof v.destination === "string" && typeof v.seq === "number") {
        out.pending.push({ ...(v as OutboxEntry), id, attempts: v.attempts ?? 0, nextAttemptAt: v.nextAttemptAt ?? "" });
      } else out.unreadable.push(id);
    } catch {
      out.unreadable.push(id);
    }
  }
  return out;
}

export interface Insertion {
  /** Merge patch of the ConfigMap's data (null removes a key); empty: nothing to write. */
  patch: Record<string, string | null>;
  added: OutboxEntry[];
  /** New deliveries that did not fit (maxPending, or the ConfigMap's size). */
  overflow: OutboxEntry[];
}

/** Adds the entries not already pending or done, within the limits; drops expired and unreadable keys. */
export function insertion(
  data: Readonly<Record<string, string>>,
  entries: OutboxEntry[],
  now: number,
  maxPending: number,
  maxBytes = MAX_OUTBOX_BYTES,
): Insertion {
  const { pending, done, unreadable } = decodeOutbox(data);
  const patch: Record<string, string | null> = {};
  for (const id of unreadable) patch[id] = null;
  for (const [id, at] of done) if (!(now - at < DONE_TTL_MS)) patch[id] = null;
  let bytes = Object.entries(data)
    .filter(([k]) => patch[k] !== null)
    .reduce((n, [k, v]) => n + entryBytes(k, v), 0);
  let count = pending.length;
  const added: OutboxEntry[] = [];
  const overflow: OutboxEntry[] = [];
  for (const e of entries) {
    if (e.id in data || e.id in patch) continue;
    const value = encodeEntry(e);
    const size = entryBytes(e.id, value);
    if (count >= maxPending || bytes + size > maxBytes) {
      overflow.push(e);
      continue;
    }
    patch[e.id] = value;
    bytes += size;
    count++;
    added.push(e);
  }
  return { patch, added, overflow };
}

const TRIES = 5;

export class Outbox {
  private readonly client: KubeClient;
  readonly name: string;

  constructor(client: KubeClient, name: string) {
    this.client = client;
    this.name = name;
  }

  private get(namespace: string): Promise<ConfigMap | undefined> {
    return this.client.get<ConfigMap>("v1", "ConfigMap", this.name, namespace).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  }

  /** Adds the deliveries not already there; retries on a concurrent change. */
  async insert(namespace: string, entries: OutboxEntry[], maxPending: number, now = Date.now()): Promise<Insertion> {
    for (let i = 0; i < TRIES; i++) {
      const cm = await this.get(namespace);
      const ins = insertion(cm?.data ?? {}, entries, now, maxPending);
      if (!Object.keys(ins.patch).length) return ins;
      try {
        if (!cm) {
          const data = Object.fromEntries(Object.entries(ins.patch).filter((kv): kv is [string, string] => kv[1] !== null));
          await this.client.create({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: this.name, namespace, labels: { [OUTBOX_LABEL]: this.name } },
            data,
          });
        } else {
          await this.client.patch("v1", "ConfigMap", this.name, namespace, {
            metadata: { resourceVersion: cm.metadata.resourceVersion },
            data: ins.patch,
          });
        }
        return ins;
      } catch (err) {
        if (!isConflict(err) && !isAlreadyExists(err)) throw err;
      }
    }
    throw new Error(`outbox ConfigMap ${namespace}/${this.name} kept changing; tried ${TRIES} times`);
  }

  /** Writes one delivery's key: its new state, or what became of it. A missing outbox is left so. */
  private async set(namespace: string, id: string, value: string): Promise<void> {
    try {
      await this.client.patch("v1", "ConfigMap", this.name, namespace, { data: { [id]: value } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  reschedule(namespace: string, entry: OutboxEntry): Promise<void> {
    return this.set(namespace, entry.id, encodeEntry(entry));
  }

  settle(namespace: string, id: string, outcome: Done["outcome"], now = new Date()): Promise<void> {
    return this.set(namespace, id, JSON.stringify({ doneAt: now.toISOString(), outcome } satisfies Done));
  }

  /** Every pending delivery in the outboxes of `namespace` (default: all namespaces). */
  async load(namespace?: string): Promise<{ namespace: string; entries: OutboxEntry[] }[]> {
    const maps = await this.client.list<ConfigMap>("v1", "ConfigMap", namespace, `${OUTBOX_LABEL}=${this.name}`);
    return maps
      .filter((cm) => cm.metadata.name === this.name)
      .map((cm) => ({ namespace: cm.metadata.namespace, entries: decodeOutbox(cm.data ?? {}).pending }));
  }
}
