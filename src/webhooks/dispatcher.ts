// Delivers what the outbox holds, in the background: reconciles only enqueue, so a slow or dead
// receiver never holds up a Rollout. Deliveries of one rollout to one destination go one at a
// time, oldest first; a failure waits out its backoff (holding the ones behind it, to keep the
// order) until it is dead-lettered: a Warning Event on the Rollout, a metric and a log line, each
// with a code from the catalogue.
import type { Code } from "../api/codes.ts";
import { API_VERSION } from "../api/group.ts";
import { EventReason } from "../api/reasons.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import type { Log } from "../kube/log.ts";
import { DestinationNotAllowed, type OutboundDoor } from "../net/outbound.ts";
import { afterFailure } from "./backoff.ts";
import type { Outbox, OutboxEntry } from "./outbox.ts";
import { deliveryRequest } from "./request.ts";
import { DestinationError, type NotificationSettings } from "./settings.ts";
import type { DeliverySettings } from "./subscriptions.ts";

export interface DeliveryObserver {
  notificationDelivered(destination: string): void;
  notificationAttemptFailed(destination: string): void;
  notificationDeadLettered(destination: string, reason: Code): void;
}

export interface Pending {
  namespace: string;
  entry: OutboxEntry;
}

/** Deliveries in one lane go in order, one at a time. */
export const laneOf = (p: Pending) => `${p.namespace}/${p.entry.payload.rollout.uid}/${p.entry.destination}`;

const dueAt = (e: OutboxEntry) => Date.parse(e.nextAttemptAt) || 0;

/** Each lane's oldest delivery. */
function heads(pending: Iterable<Pending>): Map<string, Pending> {
  const found = new Map<string, Pending>();
  for (const p of pending) {
    const lane = laneOf(p);
    const head = found.get(lane);
    if (!head || p.entry.seq < head.entry.seq) found.set(lane, p);
  }
  return found;
}

/** What to send now: the heads of idle lanes that are due, longest waiting first, at most `slots`. */
export function due(pending: Iterable<Pending>, busy: ReadonlySet<string>, now: number, slots: number): Pending[] {
  if (slots <= 0) return [];
  return [...heads(pending)]
    .filter(([lane, p]) => !busy.has(lane) && dueAt(p.entry) <= now)
    .map(([, p]) => p)
    .sort((a, b) => dueAt(a.entry) - dueAt(b.entry) || a.entry.seq - b.entry.seq)
    .slice(0, slots);
}

/** When the next idle lane's head falls due; undefined when none waits. */
export function nextDueAt(pending: Iterable<Pending>, busy: ReadonlySet<string>): number | undefined {
  const times = [...heads(pending)].filter(([lane]) => !busy.has(lane)).map(([, p]) => dueAt(p.entry));
  return times.length ? Math.min(...times) : undefined;
}

/** The code of a failure retrying cannot cure (the policy, a Secret's opt-in): dead-lettered at
 * once, not retried for ever. Undefined for any other failure. */
export function refusalCode(err: unknown): Code | undefined {
  if (err instanceof DestinationNotAllowed) return err.code;
  if (err instanceof DestinationError && err.code === "SECRET_NOT_OPTED_IN") return err.code;
  return undefined;
}

/** Why an attempt failed, for logs and the outbox: never the URL or anything read from a Secret. */
export function failureText(err: unknown, timeoutMs: number): string {
  if (err instanceof DestinationError) return `${err.code}: ${err.message}`;
  // The origin only: a webhook URL's path is often its credential.
  if (err instanceof DestinationNotAllowed) return `${err.code}: ${err.origin} is not an allowed destination: ${err.rule}`;
  const e = err as { name?: string; code?: unknown; cause?: { code?: unknown } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs / 1000}s`;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === "string" && /^[A-Z_]+$/.test(code) ? `request failed: ${code}` : "request failed";
}

export interface DispatcherOptions {
  client: KubeClient;
  /** The door every delivery goes through (the controller's outbound policy). */
  outbound: OutboundDoor;
  outbox: Outbox;
  settings: NotificationSettings;
  /** Load outboxes of this namespace only (default: all). */
  namespace?: string;
  observer?: DeliveryObserver;
  /** Who records the dead-letter Events. */
  identity?: string;
  /** The process's Event recorder: a dead letter's Event is on top of its metric and log line,
   * never instead of them (Events are best effort). */
  events: EventRecorder;
  userAgent: string;
  log?: Log;
  random?: () => number;
}

/** setTimeout's longest delay; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Dispatcher {
  private readonly opts: DispatcherOptions;
  private readonly pending = new Map<string, Pending>();
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  private log(line: string, level?: Parameters<Log>[1]): void {
    this.opts.log?.(`notifications: ${line}`, level);
  }

  /** Starts delivering; first takes up what the outboxes hold (deliveries pending before a restart). */
  start(): void {
    this.loop = this.run();
  }

  private async load(): Promise<void> {
    const signal = this.stopping.signal;
    for (let wait = 1_000; !signal.aborted; wait = Math.min(wait * 2, 30_000)) {
      try {
        let count = 0;
        for (const { namespace, entries } of await this.opts.outbox.load(this.opts.namespace)) {
          for (const entry of entries) {
            // One enqueued since this process started is already here, in its newest state.
            if (!this.pending.has(`${namespace}/${entry.id}`)) this.pending.set(`${namespace}/${entry.id}`, { namespace, entry });
            count++;
          }
        }
        if (count) this.log(`${count} deliveries pending in the outboxes`);
        return;
      } catch (err) {
        this.log(`listing the outboxes failed (retry in ${wait / 1000}s): ${(err as Error).message}`, "warn");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          signal.addEventListener(
            "abort",
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    }
  }

  /** Stops sending; deliveries in flight are cut off and stay pending for the next leader. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  /** Deliveries just written to the outbox of `namespace`. */
  add(namespace: string, entries: OutboxEntry[]): void {
    for (const entry of entries) this.pending.set(`${namespace}/${entry.id}`, { namespace, entry });
    if (entries.length) this.wake?.();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    await this.load();
    // Nothing is sent before the settings are read: each delivery would find its destination unknown.
    if (!(await this.opts.settings.untilRead(signal))) return;
    while (!signal.aborted) {
      const { delivery } = this.opts.settings.current();
      for (const p of due(this.pending.values(), this.busy, Date.now(), delivery.concurrency - this.inFlight.size)) {
        const lane = laneOf(p);
        this.busy.add(lane);
        const sending: Promise<void> = this.deliver(p, delivery).finally(() => {
          this.busy.delete(lane);
          this.inFlight.delete(sending);
          this.wake?.();
        });
        this.inFlight.add(sending);
      }
      // Asleep until the next delivery falls due, or until add() or a finished delivery wakes it;
      // with nothing pending, no timer at all. From due() to here nothing awaits, so no wake-up is missed.
      const next = nextDueAt(this.pending.values(), this.busy);
      await new Promise<void>((resolve) => {
        const timer =
          next === undefined ? undefined : setTimeout(resolve, Math.min(MAX_TIMER_MS, Math.max(0, next - Date.now())));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async deliver(p: Pending, delivery: DeliverySettings): Promise<void> {
    const { namespace, entry } = p;
    const attempt = entry.attempts + 1;
    let failure: string | undefined;
    let refused: Code | undefined;
    try {
      const config = this.opts.settings.current();
      const dest = config.destinations.get(entry.destination);
      if (!dest) throw new DestinationError("NOT_CONFIGURED", `destination ${entry.destination} is not configured`);
      const resolved = await this.opts.settings.resolve(dest);
      const req = deliveryRequest(resolved, entry.payload, attempt, Math.floor(Date.now() / 1000), this.opts.userAgent);
      const res = await this.opts.outbound.post(req.url, {
        headers: req.headers,
        body: req.body,
        timeoutMs: delivery.timeoutMs,
        signal: this.stopping.signal,
      });
      if (res.status < 200 || res.status > 299) failure = `HTTP ${res.status}`;
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      failure = failureText(err, delivery.timeoutMs);
      refused = refusalCode(err);
    }
    const what = `${entry.payload.event} of ${namespace}/${entry.payload.rollout.name} to ${entry.destination}`;
    const key = `${namespace}/${entry.id}`;
    if (failure === undefined) {
      this.pending.delete(key);
      this.opts.observer?.notificationDelivered(entry.destination);
      this.log(`${what} delivered (attempt ${attempt})`);
      await this.write(() => this.opts.outbox.settle(namespace, entry.id, "delivered"));
      return;
    }
    const next = afterFailure(attempt, delivery, Date.now(), this.opts.random ?? Math.random, {
      exhausted: "DELIVERY_FAILED",
      refused,
    });
    if (next.deadLetter) {
      this.pending.delete(key);
      await this.write(() => this.opts.outbox.settle(namespace, entry.id, "dead-lettered"));
      this.deadLetter(namespace, entry, next.deadLetter, `after ${attempt} attempts; last: ${failure}`);
      return;
    }
    this.opts.observer?.notificationAttemptFailed(entry.destination);
    const updated = {
      ...entry,
      attempts: attempt,
      nextAttemptAt: new Date(next.retryAt).toISOString(),
      lastError: failure,
    };
    this.pending.set(key, { namespace, entry: updated });
    this.log(`${what} failed (attempt ${attempt}: ${failure}); next at ${updated.nextAttemptAt}`, "warn");
    await this.write(() => this.opts.outbox.reschedule(namespace, updated));
  }

  /** A failed outbox write is logged, not fatal: the worst case is one more delivery after a restart. */
  private async write(op: () => Promise<void>): Promise<void> {
    await op().catch((err: unknown) => this.log(`outbox write failed: ${(err as Error).message}`, "warn"));
  }

  /** A dead letter's metric and log line, at once (for a process about to exit); returns the Event's message. */
  countDeadLetter(namespace: string, entry: OutboxEntry, code: Code, why: string): string {
    this.opts.observer?.notificationDeadLettered(entry.destination, code);
    const r = entry.payload.rollout;
    const message = `${code}: notification "${entry.payload.event}" (key ${entry.payload.idempotencyKey}) to ${entry.destination} dropped ${why}`;
    this.log(
      `dead letter: rollout ${namespace}/${r.name} (uid ${r.uid}) revision ${entry.payload.revision.podTemplateHash}: ${message}`,
      "warn",
    );
    return message;
  }

  /** Gives up on a delivery, never silently: a Warning Event on the Rollout, the metric by code,
   * and a log line with what identifies the payload (never the URL or a Secret's value). */
  deadLetter(namespace: string, entry: OutboxEntry, code: Code, why: string): void {
    const message = this.countDeadLetter(namespace, entry, code, why);
    const r = entry.payload.rollout;
    this.opts.events.record({
      involved: { apiVersion: API_VERSION, kind: "Rollout", name: r.name, namespace, uid: r.uid },
      reason: EventReason.NotificationDeadLettered,
      message,
      warning: true,
      instance: this.opts.identity ?? "ramp-controller",
    });
  }
}
