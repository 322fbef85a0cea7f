// What the dashboard's pages show, computed from the objects its watches hold. Pure: objects in,
// JSON-ready views out; the server pushes a view again whenever it changes.

import type { KubeObject } from "../kube/client.ts";
import { type AnalysisRunObject, controllerOf, type Meta, type PodObject, type ReplicaSetObject } from "../rollout/objects.ts";
import { controls, hashOf, type LiveRollout } from "../rollout/operations.ts";
import { intentOf } from "../rollout/plan/intent.ts";
import { type RolloutView, rolloutView } from "../rollout/view.ts";
import { measuredNumber, type Threshold, thresholds } from "./threshold.ts";

/** One row of the list page. */
export interface RolloutRow {
  name: string;
  namespace: string;
  strategy: RolloutView["strategy"];
  phase: string;
  /** Canary: "2/5" (steps done of all), else "". */
  step: string;
  weight?: number;
  created?: string;
}

/** A point of the weight chart: when the weight or the step changed. */
export interface HistoryPoint {
  /** Milliseconds since the epoch. */
  t: number;
  weight: number;
  step: number;
}

export interface MetricChart {
  name: string;
  phase: string;
  successCondition?: string;
  failureCondition?: string;
  thresholds: Threshold[];
  /** The measurements in order: when each finished (ms), its number (null: none), its phase. */
  points: { t: number; value: number | null; phase: string }[];
  message?: string;
}

export interface RunDetail {
  name: string;
  role: string;
  phase: string;
  message?: string;
  metrics: MetricChart[];
}

export interface EventRow {
  time: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  /** What it is about, e.g. Rollout/checkout or AnalysisRun/checkout-1. */
  about: string;
}

export interface PodRow {
  name: string;
  phase: string;
  ready: boolean;
}

export interface RolloutDetail {
  view: RolloutView;
  paused: boolean;
  aborted: boolean;
  /** The view's ReplicaSets, with their pods. */
  pods: Record<string, PodRow[]>;
  runs: RunDetail[];
  events: EventRow[];
  history: HistoryPoint[];
}

export type EventObject = KubeObject & {
  metadata: Meta;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
};

type PodWithStatus = PodObject & { status?: { phase?: string; conditions?: { type: string; status: string }[] } };

// Enough to follow a rollout; older events are in `kubectl get events`.
const MAX_EVENTS = 100;
/** Points kept per rollout: days of steps, bounded memory. */
export const MAX_HISTORY = 500;

/** The controller has told a weight (a canary it has reconciled): until then a weight would be a guess. */
const weightReported = (r: LiveRollout) => r.status?.canary?.weights !== undefined;

export function rolloutRow(r: LiveRollout): RolloutRow {
  const view = rolloutView(r, [], []);
  return {
    name: view.name,
    namespace: view.namespace,
    strategy: view.strategy,
    phase: view.phase,
    step:
      view.strategy === "Canary" && view.steps.length
        ? `${Math.min(view.stepIndex, view.steps.length)}/${view.steps.length}`
        : "",
    ...(weightReported(r) ? { weight: view.weight } : {}),
    ...(view.created ? { created: view.created } : {}),
  };
}

/** The list page: every Rollout, by namespace then name. */
export function rolloutRows(rollouts: LiveRollout[]): RolloutRow[] {
  return rollouts.map(rolloutRow).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

const podReady = (pod: PodWithStatus) => pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const eventTime = (e: EventObject) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "";
// Timestamps have whole seconds: within one, the later write (larger resourceVersion) is the later event.
const version = (e: EventObject) => Number(e.metadata.resourceVersion ?? 0) || 0;
const newestFirst = (a: EventObject, b: EventObject) => eventTime(b).localeCompare(eventTime(a)) || version(b) - version(a);

export function runDetail(run: AnalysisRunObject): RunDetail {
  const results = new Map((run.status?.metricResults ?? []).map((m) => [m.name, m]));
  return {
    name: run.metadata.name,
    role: run.metadata.labels?.["ramp.dev/analysis-role"] ?? "",
    phase: run.status?.phase ?? "Pending",
    ...(run.status?.message ? { message: run.status.message } : {}),
    metrics: run.spec.metrics.map((metric) => {
      const result = results.get(metric.name);
      return {
        name: metric.name,
        phase: result?.phase ?? "Pending",
        ...(metric.successCondition ? { successCondition: metric.successCondition } : {}),
        ...(metric.failureCondition ? { failureCondition: metric.failureCondition } : {}),
        thresholds: thresholds(metric),
        points: (result?.measurements ?? []).flatMap((m) => {
          const at = Date.parse(m.finishedAt ?? m.startedAt ?? "");
          return Number.isNaN(at) ? [] : [{ t: at, value: measuredNumber(m.value), phase: m.phase }];
        }),
        ...(result?.message ? { message: result.message } : {}),
      };
    }),
  };
}

/** The page of one Rollout from the objects of its namespace (each list may hold others': they are picked). */
export function rolloutDetail(
  r: LiveRollout,
  objects: { replicaSets: ReplicaSetObject[]; pods: PodObject[]; runs: AnalysisRunObject[]; events: EventObject[] },
  history: HistoryPoint[],
): RolloutDetail {
  const view = rolloutView(r, objects.replicaSets, objects.runs);
  const owned = objects.replicaSets.filter((rs) => controls(r, rs));
  const pods: Record<string, PodRow[]> = {};
  for (const rs of owned) {
    pods[hashOf(rs)] = (objects.pods as PodWithStatus[])
      .filter((p) => p.metadata.namespace === rs.metadata.namespace && controllerOf(p)?.name === rs.metadata.name)
      .map((p) => ({ name: p.metadata.name, phase: p.status?.phase ?? "Pending", ready: podReady(p) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  const runNames = new Set(view.runs.map((run) => run.name));
  const about = (e: EventObject) =>
    e.involvedObject?.namespace === r.metadata.namespace &&
    ((e.involvedObject.kind === "Rollout" && e.involvedObject.name === r.metadata.name) ||
      (e.involvedObject.kind === "AnalysisRun" && runNames.has(e.involvedObject.name ?? "")));
  return {
    view,
    paused: r.spec.paused === true,
    aborted: intentOf(r.status ?? {}).abort,
    pods,
    runs: objects.runs
      .filter((run) => runNames.has(run.metadata.name) && run.metadata.namespace === r.metadata.namespace)
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
      .map(runDetail),
    events: objects.events
      .filter(about)
      .sort(newestFirst)
      .slice(0, MAX_EVENTS)
      .map((e) => ({
        time: eventTime(e),
        type: e.type ?? "Normal",
        reason: e.reason ?? "",
        message: e.message ?? "",
        count: e.count ?? 1,
        about: `${e.involvedObject?.kind}/${e.involvedObject?.name}`,
      })),
    history,
  };
}

/** The history with the Rollout's weight and step now, added when either changed (oldest dropped past `limit`). */
export function recordHistory(history: HistoryPoint[], r: LiveRollout, now: number, limit = MAX_HISTORY): HistoryPoint[] {
  const view = rolloutView(r, [], []);
  if (view.weight === undefined || !weightReported(r)) return history;
  const last = history.at(-1);
  if (last && last.weight === view.weight && last.step === view.stepIndex) return history;
  return [...history, { t: now, weight: view.weight, step: view.stepIndex }].slice(-limit);
}
