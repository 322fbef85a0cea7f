// What `ramp get|status`, `ramp list` and the dashboard show of one Rollout, from it and what it owns.
// Pure: objects in, a view out; the CLI renders it as text (src/cli/render.ts), the dashboard as JSON.
import type { CanaryStep } from "../api/rollout.ts";
import { ANALYSIS_ROLE_LABEL, type AnalysisRunObject, isBaseline, type ReplicaSetObject } from "./objects.ts";
import { controls, hashOf, type LiveRollout, revisionOf } from "./operations.ts";

interface ReplicaSetRow {
  revision: string;
  hash: string;
  role: string;
  images: string;
  ready: number;
  desired: number;
  created?: string;
}

/** What the views show of one Rollout; equal views render alike (but for ages). */
export interface RolloutView {
  name: string;
  namespace: string;
  strategy: "Canary" | "BlueGreen";
  phase: string;
  message: string;
  images: string;
  ready: number;
  desired: number;
  /** Canary: the steps, and the index of the one under way (= steps.length once all are done). */
  steps: string[];
  stepIndex: number;
  /** Canary: percent of traffic on the newest revision. */
  weight?: number;
  replicaSets: ReplicaSetRow[];
  runs: { name: string; role: string; phase: string; created?: string }[];
  created?: string;
}

export function describeStep(step: CanaryStep): string {
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}%`;
  if (step.pause) return step.pause.duration === undefined ? "pause (until promoted)" : `pause ${step.pause.duration}`;
  if (step.analysis) return `analysis ${step.analysis.templates.map((t) => t.templateName).join(", ")}`;
  if (step.gate) return `gate ${step.gate.name}${step.gate.onFailure === "abort" ? " (aborts on failure)" : ""}`;
  if (step.errorBudget) return `errorBudget ${step.errorBudget.templates.map((t) => t.templateName).join(", ")}`;
  const scale = step.setCanaryScale;
  if (scale) {
    if (scale.replicas !== undefined) return `setCanaryScale ${scale.replicas} pods`;
    return scale.weight !== undefined ? `setCanaryScale ${scale.weight}%` : "setCanaryScale matchTrafficWeight";
  }
  const route = step.setHeaderRoute ?? step.setMirrorRoute;
  const kind = step.setHeaderRoute ? "setHeaderRoute" : "setMirrorRoute";
  return `${kind} ${route?.name ?? ""}${route?.match?.length ? "" : " (remove)"}`;
}

const images = (containers: { name: string; image: string }[] | undefined) =>
  (containers ?? []).map((c) => (containers?.length === 1 ? c.image : `${c.name}=${c.image}`)).join(", ");

/** The view of a Rollout from it and its (or any) ReplicaSets and AnalysisRuns: those it controls are picked. */
export function rolloutView(r: LiveRollout, replicaSets: ReplicaSetObject[], runs: AnalysisRunObject[]): RolloutView {
  const s = r.status ?? {};
  const owned = (o: { metadata: LiveRollout["metadata"] }) => controls(r, o);
  const rss = replicaSets.filter(owned).sort((a, b) => revisionOf(b) - revisionOf(a));
  const revisionSets = rss.filter((rs) => !isBaseline(rs));
  const canary = r.spec.strategy.canary;
  const roleOf = (rs: ReplicaSetObject) => {
    if (isBaseline(rs)) return "baseline";
    const hash = hashOf(rs);
    const roles = [
      hash === s.stableRS && "stable",
      hash === s.blueGreen?.activeSelector && "active",
      hash === s.blueGreen?.previewSelector && hash !== s.blueGreen?.activeSelector && "preview",
      canary && hash === s.currentPodHash && hash !== s.stableRS && "canary",
    ].filter(Boolean);
    return roles.length ? roles.join(", ") : "old";
  };
  const newRS = revisionSets.find((rs) => hashOf(rs) === s.currentPodHash);
  const available = (rs?: ReplicaSetObject) => rs?.status?.availableReplicas ?? 0;
  const total = revisionSets.reduce((n, rs) => n + available(rs), 0);
  // What the router was told, else (no router) the newest revision's share of the available pods.
  const weight = !canary
    ? undefined
    : s.stableRS !== undefined && s.stableRS === s.currentPodHash
      ? 100
      : (s.canary?.weights?.canary.weight ?? (total ? Math.round((100 * available(newRS)) / total) : 0));
  const stale =
    s.observedGeneration !== r.metadata.generation
      ? ` (the controller has not yet seen generation ${r.metadata.generation})`
      : "";
  return {
    name: r.metadata.name,
    namespace: r.metadata.namespace,
    strategy: canary ? "Canary" : "BlueGreen",
    // Until the controller first reports, a Rollout is on its way.
    phase: s.phase ?? "Progressing",
    message: `${s.message ?? "waiting for the controller"}${stale}`,
    images: r.spec.template ? images(r.spec.template.spec.containers) : `from Deployment ${r.spec.workloadRef?.name}`,
    ready: s.readyReplicas ?? 0,
    desired: r.spec.replicas,
    steps: (canary?.steps ?? []).map(describeStep),
    stepIndex: s.currentStepIndex ?? 0,
    ...(weight !== undefined ? { weight } : {}),
    replicaSets: rss.map((rs) => ({
      revision: isBaseline(rs) ? "-" : String(revisionOf(rs) || "?"),
      hash: hashOf(rs),
      role: roleOf(rs),
      images: images(rs.spec.template.spec.containers),
      ready: rs.status?.readyReplicas ?? 0,
      desired: rs.spec.replicas ?? 0,
      ...(rs.metadata.creationTimestamp ? { created: rs.metadata.creationTimestamp } : {}),
    })),
    runs: runs
      .filter(owned)
      .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
      .map((run) => ({
        name: run.metadata.name,
        role: run.metadata.labels?.[ANALYSIS_ROLE_LABEL] ?? "",
        phase: run.status?.phase ?? "Pending",
        ...(run.metadata.creationTimestamp ? { created: run.metadata.creationTimestamp } : {}),
      })),
    ...(r.metadata.creationTimestamp ? { created: r.metadata.creationTimestamp } : {}),
  };
}
