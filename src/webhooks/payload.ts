// Pure: the versioned JSON a notification carries (`ramp.dev/notification/v1`, docs/notifications.md),
// built from the Rollout as read, the status the planner decided and one of its events.
import { createHash } from "node:crypto";
import type { AnalysisRunStatus } from "../api/analysis.ts";
import { canonicalJson } from "../api/canonical-json.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import { type EventName, eventName } from "./subscriptions.ts";

export const PAYLOAD_VERSION = "ramp.dev/notification/v1";

export interface AnalysisDetails {
  run: string;
  phase: string;
  message?: string;
  /** The first deciding metric that did not pass, and its last such measurement. */
  metric?: string;
  value?: string;
}

export interface NotificationPayload {
  apiVersion: typeof PAYLOAD_VERSION;
  /** The same for every delivery of one event, to every destination: receivers drop repeats by it. */
  idempotencyKey: string;
  event: EventName;
  /** The core/v1 Event reason the controller recorded for it. */
  reason: string;
  severity: "info" | "warning";
  message: string;
  /** When the controller decided it (RFC 3339). */
  timestamp: string;
  rollout: { name: string; namespace: string; uid: string; strategy: "canary" | "blueGreen" };
  revision: { podTemplateHash: string; stablePodTemplateHash?: string; images: { container: string; image: string }[] };
  /** Canary only: steps done, of how many. */
  step?: { completed: number; total: number };
  /** Percent of traffic on `revision` after the event. */
  weight: number;
  outcome: { phase: string; message: string };
  analysis?: AnalysisDetails;
}

/** The Rollout as the controller read it (its status: where the transition started). */
export interface RolloutSnapshot {
  metadata: { name: string; namespace: string; uid?: string; annotations?: Record<string, string> };
  spec: unknown;
  status?: unknown;
}

export interface PlannedEvent {
  reason: string;
  message: string;
  warning?: boolean;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

interface LooseSpec {
  strategy?: { canary?: { steps?: unknown[] }; blueGreen?: unknown };
  template?: { spec?: { containers?: { name?: string; image?: string }[] } };
}

/**
 * One key per event occurrence. Besides (rollout uid, revision, event, step), it takes the status
 * the transition started from and the event's message: re-planning the same transition (after a
 * crash or a conflict) gives the same key, while the same event happening again (an abort after a
 * retry at the same step) or twice in one reconcile (two analysis runs failing) gives a new one.
 */
export function idempotencyKey(rollout: RolloutSnapshot, revision: string, event: PlannedEvent): string {
  const before = (rollout.status ?? {}) as RolloutStatus;
  const material = [
    rollout.metadata.uid ?? "",
    revision,
    event.reason,
    before.currentStepIndex ?? null,
    sha256(canonicalJson(before)),
    event.message,
  ];
  return sha256(JSON.stringify(material)).slice(0, 32);
}

/** The payload of one event; undefined for a reason notifications do not know. */
export function buildPayload(
  rollout: RolloutSnapshot,
  status: RolloutStatus,
  event: PlannedEvent,
  now: Date,
  analysis?: AnalysisDetails,
): NotificationPayload | undefined {
  const name = eventName(event.reason);
  if (!name) return undefined;
  const spec = (rollout.spec ?? {}) as LooseSpec;
  const canary = spec.strategy?.canary;
  const revision = status.currentPodHash ?? "";
  // Also called for a spec that did not parse (InvalidSpec): nothing in it is trusted.
  const containers = spec.template?.spec?.containers;
  return {
    apiVersion: PAYLOAD_VERSION,
    idempotencyKey: idempotencyKey(rollout, revision, event),
    event: name,
    reason: event.reason,
    severity: event.warning ? "warning" : "info",
    message: event.message,
    timestamp: now.toISOString(),
    rollout: {
      name: rollout.metadata.name,
      namespace: rollout.metadata.namespace,
      uid: rollout.metadata.uid ?? "",
      strategy: canary ? "canary" : "blueGreen",
    },
    revision: {
      podTemplateHash: revision,
      ...(status.stableRS ? { stablePodTemplateHash: status.stableRS } : {}),
      images: Array.isArray(containers)
        ? containers.map((c) => ({ container: String(c?.name ?? ""), image: String(c?.image ?? "") }))
        : [],
    },
    ...(canary
      ? { step: { completed: status.currentStepIndex ?? 0, total: Array.isArray(canary.steps) ? canary.steps.length : 0 } }
      : {}),
    weight: weightOn(revision, status, canary !== undefined),
    outcome: { phase: status.phase ?? "Progressing", message: status.message ?? "" },
    ...(analysis ? { analysis } : {}),
  };
}

/** Percent of traffic on the revision: all of it once stable (canary) or active (blue-green). */
function weightOn(revision: string, status: RolloutStatus, canary: boolean): number {
  if (!revision) return 0;
  if (canary) return status.stableRS === revision ? 100 : (status.canary?.weights?.canary.weight ?? 0);
  return status.blueGreen?.activeSelector === revision ? 100 : 0;
}

type RunRef = { name: string; phase?: string; message?: string };

const CAUSE_PHASES: Partial<Record<EventName, string[]>> = {
  aborted: ["Failed", "Error"],
  "analysis-failed": ["Failed"],
  "analysis-error": ["Error"],
  "analysis-inconclusive": ["Inconclusive"],
  paused: ["Inconclusive"],
};

/** The AnalysisRun behind an event (an abort, a failed or inconclusive analysis), from the status's
 * run references: the one the message names, else the first in a matching phase. */
export function analysisCause(status: RolloutStatus, event: PlannedEvent): RunRef | undefined {
  const name = eventName(event.reason);
  const phases = name ? CAUSE_PHASES[name] : undefined;
  if (!phases) return undefined;
  const refs = [
    status.canary?.currentStepAnalysisRun,
    status.canary?.currentBackgroundAnalysisRun,
    status.blueGreen?.prePromotionAnalysisRun,
    status.blueGreen?.postPromotionAnalysisRun,
  ].filter((r): r is NonNullable<typeof r> => r !== undefined && phases.includes(r.phase ?? ""));
  const named = refs.find((r) => new RegExp(`(^|\\s)${r.name.replace(/[.]/g, "\\.")}(\\s|:|$)`).test(event.message));
  return named ?? refs[0];
}

/** What to say of the run: its phase and message, and (with its status) the metric that decided it. */
export function analysisDetails(ref: RunRef, run?: AnalysisRunStatus): AnalysisDetails {
  const details: AnalysisDetails = {
    run: ref.name,
    phase: ref.phase ?? run?.phase ?? "",
    ...(ref.message || run?.message ? { message: ref.message ?? run?.message } : {}),
  };
  const deciding = (run?.metricResults ?? []).filter(
    (m) => !m.dryRun && (m.phase === "Failed" || m.phase === "Error" || m.phase === "Inconclusive"),
  );
  const metric = deciding.find((m) => m.phase === details.phase) ?? deciding[0];
  if (!metric) return details;
  const measurements = metric.measurements ?? [];
  const shown = measurements.findLast((m) => m.phase === metric.phase && m.value !== undefined) ?? measurements.at(-1);
  return { ...details, metric: metric.name, ...(shown?.value !== undefined ? { value: shown.value } : {}) };
}
