// The controller's Prometheus metrics. Each instance owns its registry (never prom-client's global
// one), so tests and several controllers in one process don't collide. Per-rollout series are
// removed when a Rollout changes phase or goes away, and only the first `maxRollouts` live Rollouts
// get series of their own (RolloutSlots), so a tenant cannot grow the label sets without bound.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AnalysisRunObserver, ObservedAnalysisRun } from "../analysis/observer.ts";
import type { AnalysisPhase } from "../api/analysis.ts";
import type { Code } from "../api/codes.ts";
import { requestTarget } from "../kube/client.ts";
import type { ControllerObserver, ReconcileOutcome, RolloutGauge } from "../rollout/observer.ts";
import type { RolloutTransition } from "../rollout/transition.ts";

export interface ControllerMetricsOptions {
  /** Keys waiting in the work queue; read at each scrape. */
  queueDepth: () => number;
  /** Ramp's version, the value of ramp_build_info's `version` label. */
  version?: string;
  /** Notification deliveries waiting in the outboxes; read at each scrape. */
  notificationsPending?: () => number;
  /** Notification deliveries held in memory while their outbox write is retried; read at each scrape. */
  notificationsUnwritten?: () => number;
  /** Events dropped because the recorder's queue was full (EventRecorder.droppedCount); read at each scrape. */
  eventsDropped?: () => number;
  /** Events queued or being written (EventRecorder.pendingCount); read at each scrape. */
  eventsPending?: () => number;
  /** Rollouts with series of their own; the others are counted under OTHER (default 500). */
  maxRollouts?: number;
  /** Analysis metrics shown per Rollout, by name (default 32, a template's most). */
  maxMetricsPerRollout?: number;
}

const EVENT_LOOP_SAMPLE_MS = 1_000;

/** The namespace and name of what is counted beyond the caps: no Kubernetes name has an underscore. */
export const OTHER = "_other";
const DEFAULT_MAX_ROLLOUTS = 500;
const DEFAULT_MAX_METRICS = 32;
const STRATEGIES = ["canary", "blueGreen"] as const;
const VERDICTS: AnalysisPhase[] = ["Successful", "Failed", "Inconclusive", "Error"];
// 5 s to a day: an update walks its steps in minutes to hours.
const ROLLOUT_DURATION_BUCKETS = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400];

const OUTCOMES: ReconcileOutcome[] = ["done", "requeue", "error"];
const REPLICA_KINDS = ["desired", "available", "updated"] as const;
// 1 ms to 10 s: a reconcile is a few cached reads and at most a handful of apiserver writes.
const RECONCILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The `code` label: the HTTP status, or "0" when the call got no answer. */
export function apiCode(status: number): string {
  return Number.isInteger(status) && status > 0 ? String(status) : "0";
}

/**
 * Which Rollouts get series of their own: the first `max` live ones the controller reports. The
 * others have no gauges, and their counts go under namespace and name OTHER, until a tracked one is
 * deleted and frees its slot. Deleting a Rollout removes its series.
 */
export class RolloutSlots {
  private readonly tracked = new Set<string>();
  private readonly untracked = new Set<string>();
  private readonly perNamespace = new Map<string, number>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }

  /** Takes a slot for the Rollout when one is free; true when it has (or now has) one. */
  admit(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    if (this.tracked.has(key)) return true;
    if (this.tracked.size >= this.max) {
      this.untracked.add(key);
      return false;
    }
    this.untracked.delete(key);
    this.tracked.add(key);
    this.perNamespace.set(namespace, (this.perNamespace.get(namespace) ?? 0) + 1);
    return true;
  }

  has(namespace: string, name: string): boolean {
    return this.tracked.has(`${namespace}/${name}`);
  }

  /** Forgets a deleted Rollout; true when it had a slot. */
  forget(namespace: string, name: string): boolean {
    const key = `${namespace}/${name}`;
    this.untracked.delete(key);
    if (!this.tracked.delete(key)) return false;
    const left = (this.perNamespace.get(namespace) ?? 1) - 1;
    if (left > 0) this.perNamespace.set(namespace, left);
    else this.perNamespace.delete(namespace);
    return true;
  }

  /** Whether any tracked Rollout is in the namespace. */
  hasNamespace(namespace: string): boolean {
    return this.perNamespace.has(namespace);
  }

  /** Live Rollouts reported without series of their own. */
  get untrackedCount(): number {
    return this.untracked.size;
  }
}

/** What the analysis metrics keep of one run. */
export interface RunSummary {
  namespace: string;
  /** The Rollout that owns the run; "" for a run of its own. */
  rollout: string;
  phase: AnalysisPhase;
  /** Orders runs: the newest run's metric results are the ones shown. */
  startedAt: string;
  metrics: { name: string; phase: AnalysisPhase; value?: number }[];
}

/** A measurement's value as a number: a scalar, or a one-element vector; else none. */
export function measuredNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const single = /^\[([^,\]]*)\]$/.exec(text.trim())?.[1] ?? text;
  const n = Number(single);
  return single.trim() !== "" && Number.isFinite(n) ? n : undefined;
}

export function runSummary(run: ObservedAnalysisRun): RunSummary {
  const owner = run.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Rollout");
  return {
    namespace: run.metadata.namespace,
    rollout: owner?.name ?? "",
    phase: run.status?.phase ?? "Pending",
    startedAt: run.status?.startedAt ?? run.metadata.creationTimestamp ?? "",
    metrics: (run.status?.metricResults ?? []).map((r) => {
      const value = measuredNumber(r.measurements?.findLast((m) => m.value !== undefined)?.value);
      return { name: r.name, phase: r.phase, ...(value !== undefined ? { value } : {}) };
    }),
  };
}

const isVerdict = (phase: AnalysisPhase) => VERDICTS.includes(phase);

export class ControllerMetrics implements ControllerObserver, AnalysisRunObserver {
  readonly registry = new Registry();
  private readonly reconciles: Counter<"outcome">;
  private readonly reconcileDuration: Histogram;
  private readonly reconcileErrors: Counter;
  private readonly apiRequests: Counter<"verb" | "resource" | "code">;
  private readonly watchFailures: Counter<"resource">;
  private readonly rolloutInfo: Gauge<"namespace" | "name" | "strategy" | "phase">;
  private readonly rolloutStep: Gauge<"namespace" | "name">;
  private readonly canaryWeight: Gauge<"namespace" | "name">;
  private readonly rolloutReplicas: Gauge<"namespace" | "name" | "kind">;
  private readonly notificationsDelivered: Counter<"destination">;
  private readonly notificationAttemptsFailed: Counter<"destination">;
  private readonly notificationsDeadLettered: Counter<"destination" | "reason">;
  private readonly serviceRole: Gauge<"namespace" | "name" | "role" | "service">;
  private readonly aborts: Counter<"namespace" | "name">;
  private readonly promotions: Counter<"namespace" | "name">;
  private readonly rollbacks: Counter<"namespace" | "name">;
  private readonly rolloutDuration: Histogram<"namespace" | "strategy">;
  private readonly events: Counter<"namespace" | "rollout" | "reason">;
  private readonly runsFinished: Counter<"namespace" | "rollout" | "phase">;
  /** The ramp_rollout_info labels shown for each `namespace/name`, to remove them when they change. */
  private readonly infoShown = new Map<string, { namespace: string; name: string; strategy: string; phase: string }>();
  /** The ramp_rollout_service_role labels shown for each `namespace/name`. */
  private readonly rolesShown = new Map<string, { namespace: string; name: string; role: string; service: string }[]>();
  /** The Event reasons counted for each `namespace/name`, to remove their series with the Rollout. */
  private readonly reasonsShown = new Map<string, Set<string>>();
  /** The `namespace/rollout` pairs whose verdict counters exist (all four, from zero). */
  private readonly verdictsShown = new Set<string>();
  private readonly slots: RolloutSlots;
  /** Every AnalysisRun the controller's cache holds, by `namespace/name`. */
  private readonly runs = new Map<string, RunSummary>();

  constructor(opts: ControllerMetricsOptions) {
    const registers = [this.registry];
    const slots = new RolloutSlots(opts.maxRollouts ?? DEFAULT_MAX_ROLLOUTS);
    this.slots = slots;
    const runs = this.runs;
    const maxMetrics = opts.maxMetricsPerRollout ?? DEFAULT_MAX_METRICS;
    this.reconciles = new Counter({
      name: "ramp_reconcile_total",
      help: "Rollout reconciles (FleetRollout reconciles in ramp fleet controller) by outcome (done, requeue, error).",
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
      help: "Calls to the Kubernetes apiserver by verb, resource (none: discovery, health) and HTTP status code (0: no answer).",
      labelNames: ["verb", "resource", "code"],
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
    new Counter({
      name: "ramp_events_dropped_total",
      help: "Events not written because the recorder's queue was full (the apiserver slower than the Events recorded).",
      registers,
      collect() {
        this.reset();
        this.inc(opts.eventsDropped?.() ?? 0);
      },
    });
    new Gauge({
      name: "ramp_events_pending",
      help: "Events recorded and not yet written: the recorder sends them in the background, on its own rate limit.",
      registers,
      collect() {
        this.set(opts.eventsPending?.() ?? 0);
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
    this.serviceRole = new Gauge({
      name: "ramp_rollout_service_role",
      help: "1 for each Service a Rollout names, by role (stable, canary, active, preview): joins traffic metrics to canary and stable.",
      labelNames: ["namespace", "name", "role", "service"],
      registers,
    });
    const perRollout = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ["namespace", "name"] as const, registers });
    this.aborts = perRollout(
      "ramp_rollout_aborts_total",
      "Updates stopped with traffic sent back to stable (analysis, a gate, the progress deadline, ramp abort).",
    );
    this.promotions = perRollout("ramp_rollout_promotions_total", "New revisions that became the stable one.");
    this.rollbacks = perRollout(
      "ramp_rollout_rollbacks_total",
      "Updates given up before they completed: the spec went back to the stable revision (ramp undo, a revert).",
    );
    this.rolloutDuration = new Histogram({
      name: "ramp_rollout_duration_seconds",
      help: "Time from a Rollout leaving Healthy (an update) to Healthy again.",
      labelNames: ["namespace", "strategy"],
      buckets: ROLLOUT_DURATION_BUCKETS,
      registers,
    });
    this.events = new Counter({
      name: "ramp_events_total",
      help: "Events recorded on Rollouts, by reason (a fixed set: docs/api.md); Grafana shows them as annotations.",
      labelNames: ["namespace", "rollout", "reason"],
      registers,
    });
    this.runsFinished = new Counter({
      name: "ramp_analysis_runs_finished_total",
      help: "AnalysisRuns that ended, by verdict (Successful, Failed, Inconclusive, Error).",
      labelNames: ["namespace", "rollout", "phase"],
      registers,
    });
    /** The labels a run's Rollout is shown under: its own when it has a slot (or no Rollout), else OTHER. */
    const runLabels = (r: RunSummary) =>
      r.rollout === "" || slots.has(r.namespace, r.rollout)
        ? { namespace: r.namespace, rollout: r.rollout }
        : { namespace: OTHER, rollout: OTHER };
    new Gauge({
      name: "ramp_analysis_runs",
      help: "AnalysisRuns by phase, as the controller's cache holds them.",
      labelNames: ["namespace", "rollout", "phase"],
      registers,
      collect() {
        this.reset();
        for (const r of runs.values()) this.inc({ ...runLabels(r), phase: r.phase });
      },
    });
    // Each metric of a Rollout's runs, from its newest run: its phase and last measured value.
    const newestMetrics = () => {
      const shown = new Map<
        string,
        { namespace: string; rollout: string; run: RunSummary; metric: RunSummary["metrics"][number] }
      >();
      for (const r of runs.values()) {
        if (r.rollout !== "" && !slots.has(r.namespace, r.rollout)) continue;
        for (const metric of r.metrics) {
          const key = `${r.namespace}/${r.rollout}/${metric.name}`;
          const seen = shown.get(key);
          if (!seen || seen.run.startedAt < r.startedAt)
            shown.set(key, { namespace: r.namespace, rollout: r.rollout, run: r, metric });
        }
      }
      const perRollout = new Map<string, number>();
      return [...shown.values()]
        .sort((a, b) => a.metric.name.localeCompare(b.metric.name))
        .filter((m) => {
          const key = `${m.namespace}/${m.rollout}`;
          const n = (perRollout.get(key) ?? 0) + 1;
          perRollout.set(key, n);
          return n <= maxMetrics;
        });
    };
    new Gauge({
      name: "ramp_analysis_metric_phase",
      help: "1 for each analysis metric of a Rollout's newest run that measures it, labelled with the metric's phase.",
      labelNames: ["namespace", "rollout", "metric", "phase"],
      registers,
      collect() {
        this.reset();
        for (const m of newestMetrics())
          this.set({ namespace: m.namespace, rollout: m.rollout, metric: m.metric.name, phase: m.metric.phase }, 1);
      },
    });
    new Gauge({
      name: "ramp_analysis_metric_value",
      help: "The last value measured for each analysis metric of a Rollout's newest run (scalars and one-element vectors).",
      labelNames: ["namespace", "rollout", "metric"],
      registers,
      collect() {
        this.reset();
        for (const m of newestMetrics()) {
          if (m.metric.value !== undefined)
            this.set({ namespace: m.namespace, rollout: m.rollout, metric: m.metric.name }, m.metric.value);
        }
      },
    });
    new Gauge({
      name: "ramp_metrics_rollouts_untracked",
      help: "Live Rollouts beyond the cap on per-rollout series, counted under namespace and name _other.",
      registers,
      collect() {
        this.set(slots.untrackedCount);
      },
    });
    new Gauge({ name: "ramp_build_info", help: "1, labelled with Ramp's version.", labelNames: ["version"], registers }).set(
      { version: opts.version ?? "unknown" },
      1,
    );
    // Prefixed, so a panel of Ramp's process never mixes in another job's process_* series. The
    // event loop's delay sampled once a second, not every 10 ms (prom-client's default): that timer
    // alone cost an idle controller 0.26 CPU seconds a minute (86 ms over 20 s, against 2 ms).
    collectDefaultMetrics({ register: this.registry, prefix: "ramp_", eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
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
    for (const role of this.rolesShown.get(key) ?? []) this.serviceRole.remove(role);
    if (!gauge) {
      this.forget(namespace, name);
      return;
    }
    if (!this.admit(namespace, name)) return;
    const roles = gauge.services.map((s) => ({ ...id, ...s }));
    for (const role of roles) this.serviceRole.set(role, 1);
    this.rolesShown.set(key, roles);
    const info = { ...id, strategy: gauge.strategy, phase: gauge.phase };
    this.rolloutInfo.set(info, 1);
    this.infoShown.set(key, info);
    this.rolloutStep.set(id, gauge.step);
    this.canaryWeight.set(id, gauge.canaryWeight);
    this.rolloutReplicas.set({ ...id, kind: "desired" }, gauge.desiredReplicas);
    this.rolloutReplicas.set({ ...id, kind: "available" }, gauge.availableReplicas);
    this.rolloutReplicas.set({ ...id, kind: "updated" }, gauge.updatedReplicas);
  }

  rolloutTransition(namespace: string, name: string, strategy: RolloutGauge["strategy"], change: RolloutTransition): void {
    const tracked = this.admit(namespace, name);
    const id = tracked ? { namespace, name } : { namespace: OTHER, name: OTHER };
    if (change.aborted) this.aborts.inc(id);
    if (change.promoted) this.promotions.inc(id);
    if (change.rolledBack) this.rollbacks.inc(id);
    if (change.healthyAfterSeconds !== undefined)
      this.rolloutDuration.observe({ namespace: id.namespace, strategy }, change.healthyAfterSeconds);
  }

  rolloutEvents(namespace: string, name: string, reasons: string[]): void {
    const tracked = this.admit(namespace, name);
    const id = tracked ? { namespace, rollout: name } : { namespace: OTHER, rollout: OTHER };
    const shown = this.reasonsShown.get(`${id.namespace}/${id.rollout}`) ?? new Set();
    for (const reason of reasons) {
      this.events.inc({ ...id, reason });
      shown.add(reason);
    }
    this.reasonsShown.set(`${id.namespace}/${id.rollout}`, shown);
  }

  analysisRun(key: string, run: ObservedAnalysisRun | undefined): void {
    const before = this.runs.get(key);
    if (!run) {
      this.runs.delete(key);
      return;
    }
    const now = runSummary(run);
    this.runs.set(key, now);
    const tracked = now.rollout === "" || this.slots.has(now.namespace, now.rollout);
    const id = tracked ? { namespace: now.namespace, rollout: now.rollout } : { namespace: OTHER, rollout: OTHER };
    // Runs of no Rollout (and those under OTHER) start theirs at the first run seen.
    this.zeroVerdicts(id.namespace, id.rollout);
    // Counted when seen ending, not when a (re)started controller first lists a run that had ended.
    if (before && !isVerdict(before.phase) && isVerdict(now.phase)) this.runsFinished.inc({ ...id, phase: now.phase });
  }

  /** Takes a series slot for the Rollout; a newly tracked one starts its counters at zero, so rate() works at once. */
  private admit(namespace: string, name: string): boolean {
    if (this.slots.has(namespace, name)) return true;
    if (!this.slots.admit(namespace, name)) return false;
    for (const counter of [this.aborts, this.promotions, this.rollbacks]) counter.inc({ namespace, name }, 0);
    // Long before its first run ends, so increase() sees the first verdict too.
    this.zeroVerdicts(namespace, name);
    return true;
  }

  /** Starts the verdict counters of a Rollout's runs at zero, once. */
  private zeroVerdicts(namespace: string, rollout: string): void {
    const key = `${namespace}/${rollout}`;
    if (this.verdictsShown.has(key)) return;
    for (const phase of VERDICTS) this.runsFinished.inc({ namespace, rollout, phase }, 0);
    this.verdictsShown.add(key);
  }

  /** Removes every series of a deleted Rollout and frees its slot. */
  private forget(namespace: string, name: string): void {
    const id = { namespace, name };
    const key = `${namespace}/${name}`;
    this.infoShown.delete(key);
    this.rolesShown.delete(key);
    this.rolloutStep.remove(id);
    this.canaryWeight.remove(id);
    for (const kind of REPLICA_KINDS) this.rolloutReplicas.remove({ ...id, kind });
    for (const counter of [this.aborts, this.promotions, this.rollbacks]) counter.remove(id);
    for (const reason of this.reasonsShown.get(key) ?? []) this.events.remove({ namespace, rollout: name, reason });
    this.reasonsShown.delete(key);
    for (const phase of VERDICTS) this.runsFinished.remove({ namespace, rollout: name, phase });
    this.verdictsShown.delete(key);
    if (this.slots.forget(namespace, name) && !this.slots.hasNamespace(namespace)) {
      for (const strategy of STRATEGIES) this.rolloutDuration.remove({ namespace, strategy });
    }
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

  apiRequest(method: string, url: URL, code: number): void {
    this.apiRequests.inc({ ...requestTarget(method, url), code: apiCode(code) });
  }
}
