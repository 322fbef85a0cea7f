// What the Rollout controller calls with a reconcile's events, before it writes the status that
// records them: the subscribed deliveries go into the namespace's outbox (a ConfigMap), then to the
// dispatcher. A crash before the status is written re-plans the same events under the same keys,
// which the outbox already holds: nothing is lost and nothing is added twice.
import type { AnalysisRunStatus } from "../api/analysis.ts";
import { API_VERSION } from "../api/group.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import { type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import type { Log } from "../kube/log.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import { type DeliveryObserver, Dispatcher } from "./dispatcher.ts";
import { deliveryId, Outbox, type OutboxEntry, outboxName } from "./outbox.ts";
import { analysisCause, analysisDetails, buildPayload, type PlannedEvent, type RolloutSnapshot } from "./payload.ts";
import { NotificationSettings } from "./settings.ts";
import { eventName, subscribers } from "./subscriptions.ts";

export interface NotifierOptions {
  client: KubeClient;
  settings: NotificationSettings;
  outbox: Outbox;
  dispatcher: Dispatcher;
}

let lastSeq = 0;
/** Increasing within a process, and (by the clock) across restarts: the order deliveries go in. */
const nextSeq = () => {
  lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
  return lastSeq;
};

/** Refusals that retrying the reconcile cannot cure (no RBAC, an invalid or oversized object). */
const permanent = (err: unknown) => err instanceof KubeError && [400, 403, 413, 422].includes(err.status);

export class Notifier {
  private readonly opts: NotifierOptions;

  constructor(opts: NotifierOptions) {
    this.opts = opts;
  }

  /**
   * Enqueues the deliveries of `events`. `rollout` is the object as read (its status is where the
   * transition started), `status` the one about to be written. Throws only on passing apiserver
   * trouble, so the reconcile runs again; problems of config are logged and never block it.
   */
  async enqueue(rollout: RolloutSnapshot, status: RolloutStatus, events: PlannedEvent[], now: Date): Promise<void> {
    const config = await this.opts.settings.current();
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
    const { outbox, dispatcher } = this.opts;
    let added: OutboxEntry[];
    let overflow: OutboxEntry[];
    try {
      ({ added, overflow } = await outbox.insert(namespace, entries, config.delivery.maxPending, now.getTime()));
    } catch (err) {
      if (!permanent(err)) throw err;
      const why = `: the outbox ConfigMap ${namespace}/${outbox.name} could not be written (${(err as Error).message})`;
      for (const e of entries) await dispatcher.deadLetter(namespace, e, why);
      return;
    }
    dispatcher.add(namespace, added);
    for (const e of overflow) {
      await dispatcher.deadLetter(namespace, e, `: the outbox of ${namespace} is full (${config.delivery.maxPending} pending)`);
    }
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
}

/** The notifier for the Rollout controller and the dispatcher to run beside it (on the leader). */
export function notifications(client: KubeClient, opts: NotificationsOptions): { notifier: Notifier; dispatcher: Dispatcher } {
  const settings = new NotificationSettings(client, { ...opts.configMap, ...(opts.log ? { log: opts.log } : {}) });
  const outbox = new Outbox(client, outboxName(opts.instanceId));
  const dispatcher = new Dispatcher({
    client,
    outbox,
    settings,
    userAgent: opts.userAgent,
    outbound: opts.outbound,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.observer ? { observer: opts.observer } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  return { notifier: new Notifier({ client, settings, outbox, dispatcher }), dispatcher };
}
