// What the Rollout controller calls with a reconcile's events, before it writes the status that
// records them: the subscribed deliveries go into the namespace's outbox (a ConfigMap), then to the
// dispatcher. A crash before the status is written re-plans the same events under the same keys,
// which the outbox already holds: nothing is lost and nothing is added twice.
// A write that fails never holds up the rollout: its deliveries wait here and the write is retried
// with backoff on its own timer, then they are dead-lettered (OUTBOX_WRITE_FAILED), never dropped
// silently.
import type { AnalysisRunStatus } from "../api/analysis.ts";
import { API_VERSION } from "../api/group.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import type { EventRecorder } from "../kube/events.ts";
import type { Log } from "../kube/log.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import { afterFailure, type BackoffSettings } from "./backoff.ts";
import { type DeliveryObserver, Dispatcher } from "./dispatcher.ts";
import { deliveryId, MAX_OUTBOX_BYTES, Outbox, type OutboxEntry, outboxName } from "./outbox.ts";
import { analysisCause, analysisDetails, buildPayload, type PlannedEvent, type RolloutSnapshot } from "./payload.ts";
import { NotificationSettings } from "./settings.ts";
import { eventName, subscribers } from "./subscriptions.ts";

export interface NotifierOptions {
  client: KubeClient;
  settings: NotificationSettings;
  outbox: Outbox;
  dispatcher: Dispatcher;
  log?: Log;
}

let lastSeq = 0;
/** Increasing within a process, and (by the clock) across restarts: the order deliveries go in. */
const nextSeq = () => {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
};

/** Retries of a failed outbox write: at most about 70 s (1+2+...+16+20+20), held in memory meanwhile.
 * Every failure is retried, a refusal too (no RBAC, an admission policy): an admin may fix it. */
export const OUTBOX_WRITE_RETRY: BackoffSettings = { maxAttempts: 8, initialBackoffMs: 1_000, maxBackoffMs: 20_000 };

/** Reconciles whose events wait for the settings to be read, at most. */
export const MAX_HELD = 1_000;

/** Deliveries of one namespace whose outbox write failed, in order, waiting for the next try. */
interface Unwritten {
  entries: OutboxEntry[];
  /** Failed writes so far. */
  failures: number;
  retryAt: number;
  /** A retry is under way: new deliveries join the queue behind it. */
  writing: boolean;
}

/** A reconcile's events, told before the settings were read. */
interface Held {
  rollout: RolloutSnapshot;
  status: RolloutStatus;
  events: PlannedEvent[];
  now: Date;
}

export class Notifier {
  private readonly opts: NotifierOptions;
  private readonly unwritten = new Map<string, Unwritten>();
  /** Events waiting for the settings to be read, in the order they came. */
  private readonly held: Held[] = [];
  private matchingHeld: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private retrying: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  /**
   * Enqueues the deliveries of `events`. `rollout` is the object as read (its status is where the
   * transition started), `status` the one about to be written. Never throws: problems of config are
   * logged, and a failed outbox write is retried in the background. Before the settings are read
   * there is nothing to match the events with: they wait, behind any still waiting, and are matched
   * once the settings are read (never against no subscriptions at all, and never holding up the rollout).
   */
  async enqueue(rollout: RolloutSnapshot, status: RolloutStatus, events: PlannedEvent[], now: Date): Promise<void> {
    if (!this.opts.settings.read || this.held.length) {
      this.held.push({ rollout, status, events, now });
      // A ConfigMap that stays unreadable does not grow memory without end: the oldest are let go, told of.
      if (!this.opts.settings.read && this.held.length > MAX_HELD) {
        this.tellUnmatched("as too many waited", this.held.splice(0, this.held.length - MAX_HELD));
      }
      this.matchingHeld ??= this.matchHeld();
      return;
    }
    await this.match(rollout, status, events, now);
  }

  /** Once the settings are read, matches the events that waited for them, oldest first (and those
   * that join them meanwhile); stopping first leaves them for stop() to tell of. */
  private async matchHeld(): Promise<void> {
    if (await this.opts.settings.untilRead(this.stopping.signal)) {
      for (let next = this.held[0]; next; next = this.held[0]) {
        await this.match(next.rollout, next.status, next.events, next.now);
        this.held.shift();
      }
    }
    this.matchingHeld = undefined;
  }

  /** Enqueues the deliveries the settings subscribe to `events`. */
  private async match(rollout: RolloutSnapshot, status: RolloutStatus, events: PlannedEvent[], now: Date): Promise<void> {
    const config = this.opts.settings.current();
    if (config.destinations.size === 0) return;
    const { namespace, name } = rollout.metadata;
    const entries: OutboxEntry[] = [];
    for (const event of events) {
      const ev = eventName(event.reason);
      if (!ev) continue;
      const { destinations, problems } = subscribers(config, rollout.metadata.annotations ?? {}, ev);
      this.opts.settings.warnOnce(`${namespace}/${name}`, problems);
      if (!destinations.length) continue;
      const cause = analysisCause(status, event);
      const details = cause ? analysisDetails(cause, await this.runStatus(namespace, cause.name)) : undefined;
      const payload = buildPayload(rollout, status, event, now, details);
      if (!payload) continue;
      for (const d of destinations) {
        entries.push({
          id: deliveryId(payload.idempotencyKey, d.id),
          destination: d.id,
          payload,
          attempts: 0,
          nextAttemptAt: now.toISOString(),
          seq: nextSeq(),
        });
      }
    }
    if (!entries.length) return;
    const waiting = this.unwritten.get(namespace);
    // Behind the deliveries already waiting for this outbox, so they stay in order.
    if (waiting) waiting.entries.push(...entries);
    else await this.insert(namespace, entries, now.getTime()).catch((err: unknown) => this.writeFailed(namespace, err, entries));
  }

  /** Writes deliveries into the outbox and hands them to the dispatcher; dead-letters what does not fit. */
  private async insert(namespace: string, entries: OutboxEntry[], now = Date.now()): Promise<void> {
    const { outbox, dispatcher, settings } = this.opts;
    const { maxPending } = settings.current().delivery;
    const { added, overflow } = await outbox.insert(namespace, entries, maxPending, now);
    dispatcher.add(namespace, added);
    for (const e of overflow) {
      const why = `as the outbox ConfigMap ${namespace}/${outbox.name} is full (${maxPending} deliveries or ${MAX_OUTBOX_BYTES} bytes)`;
      dispatcher.deadLetter(namespace, e, "OUTBOX_FULL", why);
    }
  }

  /** Counts a failed write of the namespace's waiting deliveries, with `added` (a reconcile's, which
   * failed on its first try, perhaps beside another's): retried later, or, with the attempts used
   * up, each dead-lettered. */
  private async writeFailed(namespace: string, err: unknown, added: OutboxEntry[] = []): Promise<void> {
    const w = this.unwritten.get(namespace) ?? { entries: [], failures: 0, retryAt: 0, writing: false };
    w.entries.push(...added);
    w.failures++;
    const reason = (err as Error).message;
    const next = afterFailure(w.failures, OUTBOX_WRITE_RETRY, Date.now(), Math.random, { exhausted: "OUTBOX_WRITE_FAILED" });
    const where = `the outbox ConfigMap ${namespace}/${this.opts.outbox.name}`;
    if (next.deadLetter) {
      this.unwritten.delete(namespace);
      this.deadLetterAll(namespace, w.entries, `as writing ${where} failed ${w.failures} times; last: ${reason}`);
      return;
    }
    w.retryAt = next.retryAt;
    this.unwritten.set(namespace, w);
    this.log(
      `writing ${w.entries.length} deliveries to ${where} failed (attempt ${w.failures}: ${reason}); ` +
        `next at ${new Date(w.retryAt).toISOString()}`,
      "warn",
    );
    this.schedule();
  }

  private deadLetterAll(namespace: string, entries: OutboxEntry[], why: string): void {
    for (const e of entries) this.opts.dispatcher.deadLetter(namespace, e, "OUTBOX_WRITE_FAILED", why);
  }

  /** Writes the namespace's waiting deliveries, and those that joined them meanwhile. */
  private async retry(namespace: string): Promise<void> {
    const w = this.unwritten.get(namespace);
    if (!w || w.writing) return;
    w.writing = true;
    try {
      while (w.entries.length) {
        const batch = [...w.entries];
        await this.insert(namespace, batch);
        w.entries.splice(0, batch.length);
      }
      this.unwritten.delete(namespace);
      this.log(`the outbox ConfigMap ${namespace}/${this.opts.outbox.name} written after ${w.failures} failed attempts`);
    } catch (err) {
      await this.writeFailed(namespace, err);
    } finally {
      w.writing = false;
    }
  }

  /** Sets the timer for the earliest retry due. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const due = [...this.unwritten.values()].filter((w) => !w.writing).map((w) => w.retryAt);
    if (!due.length) return;
    this.timer = setTimeout(
      () => {
        this.retrying = this.retryDue().finally(() => this.schedule());
      },
      Math.max(0, Math.min(...due) - Date.now()),
    );
  }

  private async retryDue(): Promise<void> {
    for (const [namespace, w] of this.unwritten) if (w.retryAt <= Date.now()) await this.retry(namespace);
  }

  /** Deliveries waiting for their outbox write, over all namespaces. */
  get unwrittenCount(): number {
    return [...this.unwritten.values()].reduce((n, w) => n + w.entries.length, 0);
  }

  /** On stopping, what still waits for its write is dead-lettered: held only here, it would
   * otherwise be lost without a word. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.matchingHeld;
    this.tellUnmatched("as the controller stopped", this.held.splice(0));
    await this.retrying;
    for (const [namespace, w] of this.unwritten) {
      this.deadLetterAll(namespace, w.entries, "as the controller stopped before the outbox could be written");
    }
    this.unwritten.clear();
  }

  /** For a process exiting at once (a lost Lease): what waits for its write gets its log line and
   * metric, without waiting for Events. */
  abandon(): void {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    this.tellUnmatched("as the controller lost its Lease", this.held.splice(0));
    const why = "as the controller lost its Lease before the outbox could be written";
    for (const [namespace, w] of this.unwritten) {
      for (const e of w.entries) this.opts.dispatcher.countDeadLetter(namespace, e, "OUTBOX_WRITE_FAILED", why);
    }
    this.unwritten.clear();
  }

  /** Events that never met the settings (the ConfigMap could not be read before the controller
   * stopped): which destinations they were for is unknown, so each is a warning naming the Rollout
   * and its events, never lost without a word. */
  private tellUnmatched(why: string, unmatched: Held[]): void {
    for (const { rollout, events } of unmatched) {
      const { namespace, name } = rollout.metadata;
      this.log(
        `events ${events.map((e) => e.reason).join(", ")} of rollout ${namespace}/${name} were not notified ${why} ` +
          `before ${this.opts.settings.where} could be read`,
        "warn",
      );
    }
  }

  private log(line: string, level?: Parameters<Log>[1]): void {
    this.opts.log?.(`notifications: ${line}`, level);
  }

  /** The run's status, for the metric that decided it; none if it cannot be read now. */
  private async runStatus(namespace: string, run: string): Promise<AnalysisRunStatus | undefined> {
    try {
      const obj = await this.opts.client.get<KubeObject & { status?: AnalysisRunStatus }>(
        API_VERSION,
        "AnalysisRun",
        run,
        namespace,
      );
      return obj.status;
    } catch {
      return undefined;
    }
  }
}

export interface NotificationsOptions {
  /** The notifications ConfigMap, and the namespace of it and of the Secrets it names. */
  configMap: { namespace: string; name: string };
  /** The controller's --namespace: outboxes are loaded from it only (default: all). */
  namespace?: string;
  /** The controller's --instance-id: each instance keeps its own outbox. */
  instanceId?: string;
  identity?: string;
  observer?: DeliveryObserver;
  userAgent: string;
  outbound: OutboundDoor;
  log?: Log;
  events: EventRecorder;
}

/** The notifier for the Rollout controller, and the dispatcher and the settings' watch to run beside
 * it (on the leader). */
export function notifications(
  client: KubeClient,
  opts: NotificationsOptions,
): { notifier: Notifier; dispatcher: Dispatcher; settings: NotificationSettings } {
  const settings = new NotificationSettings(client, { ...opts.configMap, ...(opts.log ? { log: opts.log } : {}) });
  const outbox = new Outbox(client, outboxName(opts.instanceId));
  const dispatcher = new Dispatcher({
    client,
    outbox,
    settings,
    userAgent: opts.userAgent,
    outbound: opts.outbound,
    events: opts.events,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.observer ? { observer: opts.observer } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const notifier = new Notifier({ client, settings, outbox, dispatcher, ...(opts.log ? { log: opts.log } : {}) });
  return { notifier, dispatcher, settings };
}
