// The controller's Prometheus metrics. Each instance owns its registry (never prom-client's global
// one), so tests and several controllers in one process don't collide. Per-rollout series are
// removed when a Rollout changes phase or goes away, so label sets stay bounded by the live Rollouts.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Code } from "../api/codes.ts";
import type { ControllerObserver, ReconcileOutcome, RolloutGauge } from "../rollout/observer.ts";

export interface ControllerMetricsOptions {
  /** Keys waiting in the work queue; read at each scrape. */
  queueDepth: () => number;
  /** Ramp's version, the value of ramp_build_info's `version` label. */
  version?: string;
  /** Notification deliveries waiting in the outboxes; read at each scrape. */
  notificationsPending?: () => number;
  /** Notification deliveries held in memory while their outbox write is retried; read at each scrape. */
  notificationsUnwritten?: () => number;
}

const OUTCOMES: ReconcileOutcome[] = ["done", "requeue", "error"];
const REPLICA_KINDS = ["desired", "available", "updated"] as const;
// 1 ms to 10 s: a reconcile is a few cached reads and at most a handful of apiserver writes.
const RECONCILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// The client reports HTTP methods (and WATCH for its watch streams); Kubernetes verbs pass through.
// Anything else is "other", so a stray method can't grow the label set.
const API_VERBS = new Map([
  ["GET", "get"],
  ["LIST", "list"],
  ["WATCH", "watch"],
  ["POST", "create"],
  ["CREATE", "create"],
  ["PUT", "update"],
  ["UPDATE", "update"],
  ["PATCH", "patch"],
  ["DELETE", "delete"],
  ["DELETECOLLECTION", "deletecollection"],
]);

/** The `verb` label for an HTTP method or Kubernetes verb, in any case. */
export function apiVerb(method: string): string {
  return API_VERBS.get(method.toUpperCase()) ?? "other";
}

/** The `code` label: the HTTP status, or "0" when the call got no answer. */
export function apiCode(status: number): string {
  return Number.isInteger(status) && status > 0 ? String(status) : "0";
}

export class ControllerMetrics implements ControllerObserver {
  readonly registry = new Registry();
  private readonly reconciles: Counter<"outcome">;
  private readonly reconcileDuration: Histogram;
  private readonly reconcileErrors: Counter;
  private readonly apiRequests: Counter<"verb" | "code">;
  private readonly watchFailures: Counter<"resource">;
  private readonly rolloutInfo: Gauge<"namespace" | "name" | "strategy" | "phase">;
  private readonly rolloutStep: Gauge<"namespace" | "name">;
  private readonly canaryWeight: Gauge<"namespace" | "name">;
  private readonly rolloutReplicas: Gauge<"namespace" | "name" | "kind">;
  private readonly notificationsDelivered: Counter<"destination">;
  private readonly notificationAttemptsFailed: Counter<"destination">;
  private readonly notificationsDeadLettered: Counter<"destination" | "reason">;
  /** The ramp_rollout_info labels shown for each `namespace/name`, to remove them when they change. */
  private readonly infoShown = new Map<string, { namespace: string; name: string; strategy: string; phase: string }>();

  constructor(opts: ControllerMetricsOptions) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: "ramp_reconcile_total",
      help: "Rollout reconciles by outcome (done, requeue, error).",
      labelNames: ["outcome"],
      registers,
    });
    // Zero from the start, so rate() works before the first reconcile of each outcome.
    for (const outcome of OUTCOMES) this.reconciles.inc({ outcome }, 0);
    // Labelled by the kinds the controller itself watches: a fixed, small set.
    this.watchFailures = new Counter({
      name: "ramp_watch_failures_total",
      help: "Watches that failed (refused, dropped, silent past the request timeout) and were restarted.",
      labelNames: ["resource"],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: "ramp_reconcile_duration_seconds",
      help: "Time taken by one Rollout reconcile.",
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "ramp_reconcile_errors_total",
      help: "Rollout reconciles that failed and will be retried with backoff.",
      registers,
    });
    new Gauge({
      name: "ramp_workqueue_depth",
      help: "Rollout keys waiting in the work queue.",
      registers,
      collect() {
        this.set(opts.queueDepth());
      },
    });
    this.apiRequests = new Counter({
      name: "ramp_api_requests_total",
      help: "Calls to the Kubernetes apiserver by verb and HTTP status code (0: no answer).",
      labelNames: ["verb", "code"],
      registers,
    });
    this.rolloutInfo = new Gauge({
      name: "ramp_rollout_info",
      help: "1 for each Rollout, labelled with its strategy and current phase.",
      labelNames: ["namespace", "name", "strategy", "phase"],
      registers,
    });
    this.rolloutStep = new Gauge({
      name: "ramp_rollout_step",
      help: "Index of the Rollout's current canary step (0 for blue-green).",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.canaryWeight = new Gauge({
      name: "ramp_rollout_canary_weight",
      help: "Share of traffic (percent) sent to the Rollout's new version.",
      labelNames: ["namespace", "name"],
      registers,
    });
    this.rolloutReplicas = new Gauge({
      name: "ramp_rollout_replicas",
      help: "The Rollout's replicas by kind: desired, available, updated (running the new template).",
      labelNames: ["namespace", "name", "kind"],
      registers,
    });
    // Labelled by destination name (`slack:deploys`): as many as the notifications ConfigMap names.
    this.notificationsDelivered = new Counter({
      name: "ramp_notifications_delivered_total",
      help: "Notifications delivered (answered 2xx), by destination.",
      labelNames: ["destination"],
      registers,
    });
    this.notificationAttemptsFailed = new Counter({
      name: "ramp_notification_attempts_failed_total",
      help: "Notification delivery attempts that failed and will be retried, by destination.",
      labelNames: ["destination"],
      registers,
    });
    this.notificationsDeadLettered = new Counter({
      name: "ramp_notifications_dead_letter_total",
      help: "Notifications given up on, by destination and reason (a code of the catalogue: DELIVERY_FAILED, OUTBOX_FULL, OUTBOX_WRITE_FAILED, DESTINATION_NOT_ALLOWED, SECRET_NOT_OPTED_IN).",
      labelNames: ["destination", "reason"],
      registers,
    });
    new Gauge({
      name: "ramp_notifications_pending",
      help: "Notification deliveries waiting in the outboxes.",
      registers,
      collect() {
        this.set(opts.notificationsPending?.() ?? 0);
      },
    });
    new Gauge({
      name: "ramp_notifications_unwritten",
      help: "Notification deliveries whose outbox write failed, held in memory until it is retried (or they are dead-lettered).",
      registers,
      collect() {
        this.set(opts.notificationsUnwritten?.() ?? 0);
      },
    });
    new Gauge({ name: "ramp_build_info", help: "1, labelled with Ramp's version.", labelNames: ["version"], registers }).set(
      { version: opts.version ?? "unknown" },
      1,
    );
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  reconciled(outcome: ReconcileOutcome, durationSeconds: number): void {
    this.reconciles.inc({ outcome });
    this.reconcileDuration.observe(durationSeconds);
    if (outcome === "error") this.reconcileErrors.inc();
  }

  rollout(namespace: string, name: string, gauge: RolloutGauge | undefined): void {
    const id = { namespace, name };
    const key = `${namespace}/${name}`;
    const shown = this.infoShown.get(key);
    if (shown) this.rolloutInfo.remove(shown);
    if (!gauge) {
      this.infoShown.delete(key);
      this.rolloutStep.remove(id);
      this.canaryWeight.remove(id);
      for (const kind of REPLICA_KINDS) this.rolloutReplicas.remove({ ...id, kind });
      return;
    }
    const info = { ...id, strategy: gauge.strategy, phase: gauge.phase };
    this.rolloutInfo.set(info, 1);
    this.infoShown.set(key, info);
    this.rolloutStep.set(id, gauge.step);
    this.canaryWeight.set(id, gauge.canaryWeight);
    this.rolloutReplicas.set({ ...id, kind: "desired" }, gauge.desiredReplicas);
    this.rolloutReplicas.set({ ...id, kind: "available" }, gauge.availableReplicas);
    this.rolloutReplicas.set({ ...id, kind: "updated" }, gauge.updatedReplicas);
  }

  notificationDelivered(destination: string): void {
    this.notificationsDelivered.inc({ destination });
  }

  notificationAttemptFailed(destination: string): void {
    this.notificationAttemptsFailed.inc({ destination });
  }

  notificationDeadLettered(destination: string, reason: Code): void {
    this.notificationsDeadLettered.inc({ destination, reason });
  }

  watchFailure(kind: string): void {
    this.watchFailures.inc({ resource: kind });
  }

  apiRequest(verb: string, code: number): void {
    this.apiRequests.inc({ verb: apiVerb(verb), code: apiCode(code) });
  }
}
