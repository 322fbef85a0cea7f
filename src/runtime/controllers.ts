// What a Ramp controller process runs, in one place: the Rollout controller, the AnalysisRun
// controller and the notifications (settings watch, notifier, dispatcher), started and stopped as
// one, with one readiness. `ramp controller` runs it behind its Lease and health server; `ramp demo`
// runs the very same set in-process against its dev cluster.
import { AnalysisRunController } from "../analysis/controller.ts";
import type { AnalysisRunObserver } from "../analysis/observer.ts";
import type { KubeClient, KubeClientOptions } from "../kube/client.ts";
import { EVENT_BURST, EVENT_QPS, type EventRecorder } from "../kube/events.ts";
import type { Log } from "../kube/log.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import { RolloutController } from "../rollout/controller.ts";
import type { ControllerObserver } from "../rollout/observer.ts";
import type { DeliveryObserver } from "../webhooks/dispatcher.ts";
import { notifications } from "../webhooks/notifier.ts";

export interface ControllerSetOptions {
  outbound: OutboundDoor;
  events: EventRecorder;
  /** The client of the writes nothing waits for (revision history), on a budget of its own. */
  background?: KubeClient;
  log: Log;
  /** Watch only this namespace (default: all). */
  namespace?: string;
  instanceId?: string;
  workers?: number;
  /** Who this replica is, for its Events and notifications. */
  identity?: string;
  /** The metrics (ramp controller's ControllerMetrics). */
  observer?: ControllerObserver & AnalysisRunObserver & DeliveryObserver;
  onWatchFailure?: (kind: string) => void;
  /** The AnalysisRun controller too (default); without a Prometheus URL a run names its own. */
  analysis?: { prometheusUrl?: string; jobProvider?: boolean } | false;
  /** The notifications, configured by this ConfigMap. */
  notifications?: { configMap: { namespace: string; name: string }; userAgent: string };
}

export interface ControllerSet {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly synced: boolean;
  readonly problems: string[];
  readonly queueDepth: number;
  readonly notificationsPending: number;
  readonly notificationsUnwritten: number;
  /** For a process exiting at once (a lost Lease): what waits for the outbox is told of. */
  abandon(): void;
}

export function controllerSet(client: KubeClient, opts: ControllerSetOptions): ControllerSet {
  const scope = {
    outbound: opts.outbound,
    events: opts.events,
    log: opts.log,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.instanceId ? { instanceId: opts.instanceId } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.onWatchFailure ? { onWatchFailure: opts.onWatchFailure } : {}),
  };
  const observer = opts.observer ? { observer: opts.observer } : {};
  const identity = opts.identity ? { identity: opts.identity } : {};
  const notify = opts.notifications
    ? notifications(client, {
        ...scope,
        ...identity,
        ...observer,
        configMap: opts.notifications.configMap,
        userAgent: opts.notifications.userAgent,
      })
    : undefined;
  const analysis = opts.analysis ?? {};
  const controllers: (RolloutController | AnalysisRunController)[] = [
    new RolloutController(client, {
      ...scope,
      ...identity,
      ...observer,
      ...(notify ? { notifier: notify.notifier } : {}),
      ...(opts.background ? { historyClient: opts.background } : {}),
    }),
    ...(analysis
      ? [
          new AnalysisRunController(client, {
            ...scope,
            ...observer,
            jobProvider: analysis.jobProvider === true,
            ...(analysis.prometheusUrl ? { prometheusUrl: analysis.prometheusUrl } : {}),
          }),
        ]
      : []),
  ];
  let stopped = false;
  return {
    start: async () => {
      if (stopped) return;
      // The settings are read beside the controllers, which never wait for them: a list refused (no
      // RBAC, the apiserver down) is retried and told by readiness, while the notifier holds a
      // reconcile's events and the dispatcher its deliveries until they are read.
      void notify?.settings.start();
      notify?.dispatcher.start();
      await Promise.all(controllers.map((c) => c.start()));
    },
    stop: async () => {
      stopped = true;
      await Promise.all(controllers.map((c) => c.stop()));
      await notify?.notifier.stop();
      await notify?.dispatcher.stop();
      notify?.settings.stop();
    },
    get synced() {
      return controllers.every((c) => c.synced);
    },
    get problems() {
      return [...controllers.flatMap((c) => c.problems), ...(notify?.settings.problem ? [notify.settings.problem] : [])];
    },
    get queueDepth() {
      return controllers.reduce((sum, c) => sum + c.queueDepth, 0);
    },
    get notificationsPending() {
      return notify?.dispatcher.pendingCount ?? 0;
    },
    get notificationsUnwritten() {
      return notify?.notifier.unwrittenCount ?? 0;
    },
    abandon: () => notify?.notifier.abandon(),
  };
}

/** The background client's options (Events, revision history): the main client's, with a rate limit
 * of its own of half its budget again (at least EVENT_QPS/EVENT_BURST), unlimited with it. A change of
 * every rollout at once brings a few Events and a revision each, which must keep up without taking the
 * tokens of status and ReplicaSet writes. */
export function backgroundClientOptions(main: KubeClientOptions): KubeClientOptions {
  if (main.qps === 0) return { ...main, qps: 0 };
  return {
    ...main,
    qps: Math.max(EVENT_QPS, (main.qps ?? 0) / 2),
    burst: Math.max(EVENT_BURST, (main.burst ?? 0) / 2),
  };
}
