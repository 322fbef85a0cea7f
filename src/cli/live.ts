// The live view of `ramp status|get NAME -w` on a terminal: a frame of lines redrawn in place. Pure:
// the Rollout, what it owns, the clock, the terminal's width and whether to colour in, lines out.
import pc from "picocolors";
import { durationMs } from "../api/duration.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { PauseReason } from "../api/reasons.ts";
import type { AnalysisRunObject, PodObject, ReplicaSetObject } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import { weightAt } from "../rollout/plan/canary.ts";
import { type RolloutView, rolloutView } from "../rollout/view.ts";
import { humanAge, table } from "./render.ts";

/** A pod as far as the view reads it. */
export interface LivePod extends PodObject {
  spec?: { containers?: unknown[] };
  status?: {
    phase?: string;
    reason?: string;
    containerStatuses?: {
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
    }[];
  };
}

/** What the watches hold now. */
export interface LiveState {
  rollout: LiveRollout;
  replicaSets: ReplicaSetObject[];
  pods: LivePod[];
  runs: AnalysisRunObject[];
  /** Why part of it may be stale (a watch that fails), one line each. */
  problems: string[];
}

/** How many recent measurements a metric's sparkline shows. */
export const SPARK_POINTS = 20;
const BARS = "▁▂▃▄▅▆▇█";

/** The first number in a measurement's value text ("0.01", "[0.01, 3]"); NaN when none. */
export function measuredNumber(value: string | undefined): number {
  const match = /[-+]?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?|[-+]?Inf/i.exec(value ?? "");
  if (!match) return Number.NaN;
  return /inf/i.test(match[0]) ? (match[0].startsWith("-") ? -Infinity : Infinity) : Number(match[0]);
}

/** One bar per value, scaled between the smallest and largest finite one; "·" for no number. */
export function sparkline(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  const [low, high] = [Math.min(...finite), Math.max(...finite)];
  return values
    .map((v) => {
      if (Number.isNaN(v)) return "·";
      if (!Number.isFinite(v)) return v > 0 ? "█" : "▁";
      const level = high === low ? 3 : Math.round(((v - low) / (high - low)) * (BARS.length - 1));
      return BARS[level];
    })
    .join("");
}

/** `ms` as a countdown: `45s`, `3m05s`, `2h10m`. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

interface MetricRow {
  name: string;
  phase: string;
  last: string;
  lastPhase: string;
  condition: string;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  spark: { bar: string; phase: string }[];
}

/** What the live view adds to the text view's. */
export interface LiveView extends RolloutView {
  pods: Record<string, { name: string; status: string; ready: string; restarts: number; created?: string }[]>;
  metrics: Record<string, MetricRow[]>;
  /** Canary: the weight the current step asks for, what the router was last told, whether it checked. */
  desiredWeight?: number;
  setWeight?: number;
  verified?: boolean;
  routed: boolean;
  /** A timed pause under way: when it ends (ms since the epoch). */
  pauseEndsAt?: number;
  problems: string[];
}

/** kubectl's STATUS column, roughly: a container's waiting or terminated reason, else the phase. */
function podStatus(pod: LivePod): string {
  if (pod.metadata.deletionTimestamp) return "Terminating";
  for (const c of pod.status?.containerStatuses ?? []) {
    const reason = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? "Pending";
}

function metricRows(run: AnalysisRunObject): MetricRow[] {
  return (run.status?.metricResults ?? []).map((m) => {
    const spec = run.spec.metrics.find((s) => s.name === m.name);
    const measurements = m.measurements ?? [];
    const last = measurements.at(-1);
    const recent = measurements.slice(-SPARK_POINTS);
    const bars = [...sparkline(recent.map((x) => (x.phase === "Error" ? Number.NaN : measuredNumber(x.value))))];
    const provider = spec ? Object.keys(spec.provider).find((k) => spec.provider[k as keyof typeof spec.provider]) : undefined;
    const condition = spec?.successCondition ?? (spec?.failureCondition ? `fails if ${spec.failureCondition}` : (provider ?? ""));
    return {
      name: `${m.name}${m.dryRun ? " (dry run)" : ""}`,
      phase: m.phase,
      last: last ? (last.phase === "Error" ? "error" : (last.value ?? "-")) : "-",
      lastPhase: last?.phase ?? m.phase,
      condition,
      successful: m.successful ?? 0,
      failed: m.failed ?? 0,
      inconclusive: m.inconclusive ?? 0,
      error: m.error ?? 0,
      spark: recent.map((x, i) => ({ bar: bars[i] ?? "·", phase: x.phase })),
    };
  });
}

export function liveView(state: LiveState): LiveView {
  const { rollout: r } = state;
  const base = rolloutView(r, state.replicaSets, state.runs);
  const s = r.status ?? {};
  const canary = r.spec.strategy.canary;
  const pods: LiveView["pods"] = {};
  for (const pod of [...state.pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const hash = pod.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    if (!hash || !base.replicaSets.some((rs) => rs.hash === hash)) continue;
    const containers = pod.status?.containerStatuses ?? [];
    pods[hash] ??= [];
    pods[hash].push({
      name: pod.metadata.name,
      status: podStatus(pod),
      ready: `${containers.filter((c) => c.ready).length}/${containers.length || pod.spec?.containers?.length || 0}`,
      restarts: containers.reduce((n, c) => n + (c.restartCount ?? 0), 0),
      ...(pod.metadata.creationTimestamp ? { created: pod.metadata.creationTimestamp } : {}),
    });
  }
  const metrics = Object.fromEntries(
    state.runs
      .filter((run) => base.runs.some((b) => b.name === run.metadata.name))
      .map((run) => [run.metadata.name, metricRows(run)]),
  );
  const steps = canary?.steps ?? [];
  const index = s.currentStepIndex ?? 0;
  const step = steps[index];
  const pause = s.pauseConditions?.find((p) => p.reason === PauseReason.CanaryPauseStep);
  const pauseEndsAt =
    canary && step?.pause?.duration !== undefined && pause
      ? new Date(pause.startTime).getTime() + durationMs(step.pause.duration)
      : undefined;
  const weights = s.canary?.weights;
  const done = s.stableRS !== undefined && s.stableRS === s.currentPodHash;
  return {
    ...base,
    pods,
    metrics,
    routed: canary?.trafficRouting !== undefined,
    ...(canary ? { desiredWeight: done ? 100 : s.abort ? 0 : weightAt(steps, index) } : {}),
    ...(canary && weights ? { setWeight: done ? 100 : weights.canary.weight } : {}),
    ...(weights?.verified !== undefined ? { verified: weights.verified } : {}),
    ...(pauseEndsAt !== undefined && Number.isFinite(pauseEndsAt) ? { pauseEndsAt } : {}),
    problems: state.problems,
  };
}

type Paint = (text: string) => string;
/** A line in pieces, each painted or not; fitted to the width before any colour goes in. */
type Piece = [string, Paint?];
type Line = Piece[];

type Colours = ReturnType<typeof pc.createColors>;
const PHASE_PAINT: Record<string, "green" | "cyan" | "yellow" | "dim" | "red" | "magenta"> = {
  Healthy: "green",
  Successful: "green",
  Running: "cyan",
  Progressing: "cyan",
  Paused: "yellow",
  Inconclusive: "yellow",
  Pending: "dim",
  Degraded: "red",
  Failed: "red",
  Error: "magenta",
};

/** Cuts a line to `width` characters (an ellipsis marks the cut), then paints its pieces. */
function cut(line: Line, width: number): string {
  let room = Math.max(width, 1);
  let out = "";
  for (const [text, paint] of line) {
    if (room <= 0) break;
    const chars = [...text];
    const over = chars.length > room;
    const shown = over ? `${chars.slice(0, room - 1).join("")}…` : text;
    room -= over ? room : chars.length;
    out += paint ? paint(shown) : shown;
  }
  return out;
}

/** The frame: one string per terminal line, none longer than `width` characters (colour aside). */
export function renderLive(v: LiveView, now: Date, width: number, colour: boolean): string[] {
  const c: Colours = pc.createColors(colour);
  const phase = (p: string): Paint => {
    const name = PHASE_PAINT[p];
    return name ? c[name] : (t) => t;
  };
  const age = (created?: string) => (created ? humanAge(now.getTime() - new Date(created).getTime()) : "<unknown>");
  const lines: Line[] = [];
  const label = (name: string): Piece => [name.padEnd(12), c.bold];
  lines.push([
    [`${v.name}`, c.bold],
    [`  ${v.namespace}  ${v.strategy}  `],
    [`● ${v.phase}`, phase(v.phase)],
    [` — ${v.message}`],
  ]);
  lines.push([label("Images:"), [v.images]]);
  lines.push([label("Replicas:"), [`${v.ready}/${v.desired} ready`]]);
  if (v.strategy === "Canary") {
    const set = v.setWeight === undefined ? "not yet set" : `${v.setWeight}%`;
    const check: Piece = !v.routed
      ? [" (replica counts, no router)", c.dim]
      : v.verified === true
        ? [" ✓ verified", c.green]
        : v.verified === false
          ? [" ✗ not verified yet", c.yellow]
          : [" (the router cannot verify)", c.dim];
    const behind = v.desiredWeight !== undefined && v.setWeight !== undefined && v.desiredWeight !== v.setWeight;
    lines.push([label("Weight:"), [`desired ${v.desiredWeight ?? 0}%  set `], [set, behind ? c.yellow : undefined], check]);
    if (v.pauseEndsAt !== undefined) {
      lines.push([label("Pause:"), [`${countdown(v.pauseEndsAt - now.getTime())} left`, c.yellow]]);
    }
    const n = v.steps.length;
    lines.push([label("Steps:"), [n ? `${Math.min(v.stepIndex, n)}/${n} done` : "none"]]);
    for (const [i, step] of v.steps.entries()) {
      const mark: Piece = i < v.stepIndex ? ["✓", c.green] : i === v.stepIndex ? ["→", c.cyan] : [" "];
      lines.push([["  "], mark, [` ${i + 1}/${n} ${step}`, i === v.stepIndex ? c.bold : undefined]]);
    }
  }
  lines.push([["ReplicaSets:", c.bold]]);
  for (const rs of v.replicaSets) {
    const full = rs.ready >= rs.desired;
    lines.push([
      ["  "],
      [`rev ${rs.revision}`, c.bold],
      [`  ${rs.hash}  `],
      [rs.role, rs.role === "canary" || rs.role === "preview" ? c.cyan : rs.role === "old" ? c.dim : c.green],
      [`  ${rs.images}  `],
      [`${rs.ready}/${rs.desired} ready`, full ? undefined : c.yellow],
      [`  ${age(rs.created)}`, c.dim],
    ]);
    const pods = v.pods[rs.hash] ?? [];
    const rows = table(pods.map((p) => [p.name, p.status, p.ready, `${p.restarts} restarts`, age(p.created)])).split("\n");
    for (const [i, pod] of pods.entries()) {
      const ok = pod.status === "Running" && !pod.ready.startsWith("0/");
      lines.push([["    "], [rows[i] ?? "", ok ? undefined : c.yellow]]);
    }
  }
  if (v.runs.length) lines.push([["Analysis:", c.bold]]);
  for (const run of v.runs) {
    lines.push([["  "], [run.name], [`  ${run.role}  `], [run.phase, phase(run.phase)], [`  ${age(run.created)}`, c.dim]]);
    const metrics = v.metrics[run.name] ?? [];
    if (!metrics.length) continue;
    const cells = table([
      ["METRIC", "LAST", "CONDITION", "OK", "FAILED", "INCONCLUSIVE", "ERRORS", ""],
      ...metrics.map((m) => [m.name, m.last, m.condition, ...[m.successful, m.failed, m.inconclusive, m.error].map(String), ""]),
    ]).split("\n");
    lines.push([["    "], [cells[0] ?? "", c.dim], ["RECENT", c.dim]]);
    for (const [i, m] of metrics.entries()) {
      lines.push([
        ["    "],
        [cells[i + 1] ?? "", m.failed ? c.red : m.inconclusive ? c.yellow : undefined],
        ...m.spark.map((p): Piece => [p.bar, phase(p.phase)]),
      ]);
    }
  }
  for (const problem of v.problems) lines.push([[`! ${problem}`, c.red]]);
  return lines.map((line) => cut(line, width));
}

/** At most `rows` lines: a frame taller than the terminal could not be redrawn in place (the cursor
 * cannot move above the screen's top), so the last line says how many were left out. */
export function clip(lines: string[], rows: number): string[] {
  if (lines.length <= rows) return lines;
  const keep = Math.max(rows - 1, 0);
  return [...lines.slice(0, keep), `… ${lines.length - keep} more lines (a taller terminal shows them)`].slice(
    0,
    Math.max(rows, 1),
  );
}

/** A plain line cut to `width` characters. */
export const fitText = (line: string, width: number) => cut([[line]], width);

/** What redraws a frame in place of the last one, `height` lines tall: back to its first line (CSI
 * n F), each line written and the rest of it erased (CSI K), and whatever the last frame left below
 * erased (CSI J). The cursor ends below the frame, so a shell prompt after it lands on a clean line.
 * Written here rather than taken from log-update: the frames come cut to the width already, which
 * leaves none of its wrapping to do, and these three sequences are all of the rest. */
export function redraw(height: number, lines: string[]): string {
  return `${height ? `\x1b[${height}F` : ""}${lines.map((l) => `${l}\x1b[K\n`).join("")}\x1b[J`;
}
