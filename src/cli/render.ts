// The text views of `ramp get|status` and `ramp list`. Pure: objects and a clock in, text out.
import type { CanaryStep } from "../api/rollout.ts";
import { ANALYSIS_ROLE_LABEL, type AnalysisRunObject, type ReplicaSetObject } from "../rollout/objects.ts";
import { controls, hashOf, type LiveRollout, revisionOf } from "../rollout/operations.ts";

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
  const canary = r.spec.strategy.canary;
  const roleOf = (hash: string) => {
    const roles = [
      hash === s.stableRS && "stable",
      hash === s.blueGreen?.activeSelector && "active",
      hash === s.blueGreen?.previewSelector && hash !== s.blueGreen?.activeSelector && "preview",
      canary && hash === s.currentPodHash && hash !== s.stableRS && "canary",
    ].filter(Boolean);
    return roles.length ? roles.join(", ") : "old";
  };
  const newRS = rss.find((rs) => hashOf(rs) === s.currentPodHash);
  const available = (rs?: ReplicaSetObject) => rs?.status?.availableReplicas ?? 0;
  const total = rss.reduce((n, rs) => n + available(rs), 0);
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
      revision: String(revisionOf(rs) || "?"),
      hash: hashOf(rs),
      role: roleOf(hashOf(rs)),
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

/** An age as kubectl prints it (apimachinery's HumanDuration): about two significant figures,
 * `45s`, `3m20s`, `20m`, `3h`, `5d`, `2y`; up to 2 s in the future is clock skew, "0s". */
export function humanAge(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const both = (big: number, unit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${unit}` : `${big}${unit}${small}${smallUnit}`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return both(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return both(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return both(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return both(years, "y", days % 365, "d");
  return `${years}y`;
}

const age = (created: string | undefined, now: Date) =>
  created ? humanAge(now.getTime() - new Date(created).getTime()) : "<unknown>";

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

const indent = (text: string) => text.replace(/^/gm, "  ");
const stepOf = (v: RolloutView) => (v.strategy === "Canary" ? `${Math.min(v.stepIndex, v.steps.length)}/${v.steps.length}` : "-");
const weightOf = (v: RolloutView) => (v.weight === undefined ? "-" : `${v.weight}%`);

export function renderStatus(v: RolloutView, now: Date): string {
  const lines = [
    `Name:       ${v.name}`,
    `Namespace:  ${v.namespace}`,
    `Strategy:   ${v.strategy}`,
    `Phase:      ${v.phase} — ${v.message}`,
    `Images:     ${v.images}`,
    `Replicas:   ${v.ready}/${v.desired} ready`,
  ];
  if (v.strategy === "Canary") {
    lines.push(`Weight:     ${weightOf(v)}`, `Steps:      ${v.steps.length ? `${stepOf(v)} done` : "none"}`);
    const n = v.steps.length;
    for (const [i, step] of v.steps.entries()) {
      lines.push(`  ${i < v.stepIndex ? "✓" : i === v.stepIndex ? "→" : " "} ${i + 1}/${n} ${step}`);
    }
  }
  lines.push("ReplicaSets:");
  lines.push(
    indent(
      table([
        ["REVISION", "HASH", "ROLE", "IMAGES", "READY", "AGE"],
        ...v.replicaSets.map((rs) => [
          rs.revision,
          rs.hash,
          rs.role,
          rs.images,
          `${rs.ready}/${rs.desired}`,
          age(rs.created, now),
        ]),
      ]),
    ),
  );
  if (v.runs.length) {
    lines.push("Analysis runs:");
    lines.push(
      indent(table([["NAME", "ROLE", "PHASE", "AGE"], ...v.runs.map((r) => [r.name, r.role, r.phase, age(r.created, now)])])),
    );
  }
  return lines.join("\n");
}

export interface ListFormat {
  allNamespaces: boolean;
  /** -o wide: the images and the controller's message too. */
  wide: boolean;
  /** --no-headers: rows only. */
  headers: boolean;
}

export function renderList(views: RolloutView[], format: ListFormat, now: Date): string {
  const ns = (cell: string) => (format.allNamespaces ? [cell] : []);
  const wide = (...cells: string[]) => (format.wide ? cells : []);
  const header = [
    "NAME",
    ...ns("NAMESPACE"),
    "STRATEGY",
    "PHASE",
    "STEP",
    "WEIGHT",
    "READY",
    "AGE",
    ...wide("IMAGES", "MESSAGE"),
  ];
  const rows = views.map((v) => [
    v.name,
    ...ns(v.namespace),
    v.strategy,
    v.phase,
    stepOf(v),
    weightOf(v),
    `${v.ready}/${v.desired}`,
    age(v.created, now),
    ...wide(v.images, v.message),
  ]);
  return table(format.headers ? [header, ...rows] : rows);
}
