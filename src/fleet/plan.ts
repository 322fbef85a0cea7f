// Pure: a FleetRollout's next move. Observed FleetRollout + what each member's Rollout says + the
// wave analyses' phases + now -> the actions to take, the new status, and when to look again.
// Everything it remembers is in the status it returns, so a restarted coordinator carries on.

import { brief } from "../api/brief.ts";
import type { Code } from "../api/codes.ts";
import { parseDuration } from "../api/duration.ts";
import type { ClusterStatus, FleetRolloutSpec, FleetRolloutStatus, WaveStatus } from "../api/fleet.ts";
import { EventReason } from "../api/reasons.ts";

/** A member cluster as found (ClusterProfile or labelled Secret). */
export interface Member {
  name: string;
  labels: Record<string, string>;
}

/** What a member's Rollout says, as the shell read it. */
export type MemberView =
  | { reachable: false; code: Code; message: string }
  | {
      reachable: true;
      /** The Rollout does not exist in the member. */
      missing?: boolean;
      /** The fleet revision the member's template carries (its ramp.dev/fleet-revision annotation). */
      revision?: string;
      /** The fleet revision it was rolled back from (ramp.dev/fleet-rolled-back). */
      rolledBackFrom?: string;
      /** Its phase once its controller has seen the latest spec; undefined while it has not. */
      phase?: "Progressing" | "Paused" | "Healthy" | "Degraded";
      /** Healthy and the newest revision is the stable one. */
      settled: boolean;
      message?: string;
    };

export interface FleetObserved {
  name: string;
  generation: number;
  spec: FleetRolloutSpec;
  status: FleetRolloutStatus;
  /** Hash of what is released (template or image, and the Rollout it goes to). */
  revision: string;
  members: Member[];
  views: Record<string, MemberView>;
  /** Phases of the wave analyses, by AnalysisRun name. */
  analysisRuns: Record<string, string | undefined>;
  now: Date;
}

export type FleetAction =
  | { type: "update"; cluster: string }
  | { type: "rollback"; cluster: string }
  | { type: "createAnalysis"; wave: number; name: string }
  | { type: "event"; reason: EventReason; message: string; warning?: boolean };

export interface FleetPlan {
  actions: FleetAction[];
  status: FleetRolloutStatus;
  requeueAfterMs?: number;
}

/** While something is under way, members are read again at least this often: their Rollouts are
 * watched (a change reconciles at once), this is the safety net for a change a watch missed. */
export const RESYNC_MS = 30_000;

/** A member's words are kept short: the status holds one per cluster, and a member is not trusted. */
const MAX_MESSAGE = 512;

const FAILED_ANALYSIS = new Set(["Failed", "Error", "Inconclusive"]);

/** The clusters of each wave: by name or label, a cluster only in the first wave that takes it. */
export function resolveWaves(spec: FleetRolloutSpec, members: Member[]): string[][] {
  const taken = new Set<string>();
  return spec.waves.map((w) => {
    const matched = w.clusters
      ? w.clusters
      : members
          .filter((m) => Object.entries(w.selector?.matchLabels ?? {}).every(([k, v]) => m.labels[k] === v))
          .map((m) => m.name)
          .sort();
    const mine = matched.filter((c) => !taken.has(c));
    for (const c of mine) taken.add(c);
    return mine;
  });
}

export const analysisRunName = (fleet: string, revision: string, wave: number) =>
  `${fleet}-${revision}-wave-${wave}`.slice(0, 253);

function freshStatus(o: FleetObserved): FleetRolloutStatus {
  const waves = resolveWaves(o.spec, o.members);
  return {
    phase: "Progressing",
    message: "starting wave 1",
    revision: o.revision,
    currentWave: 0,
    waves: o.spec.waves.map((w, i) => ({
      name: w.name,
      phase: "Pending",
      clusters: (waves[i] ?? []).map((name) => ({ name, phase: "Pending" as const })),
    })),
  };
}

const soakMs = (soak: string | number | undefined): number => {
  if (soak === undefined) return 0;
  if (typeof soak === "number") return soak * 1000;
  const parsed = parseDuration(soak);
  return parsed.ok ? parsed.ms : 0;
};

/** The cluster's phase from its view, for a cluster the coordinator has updated. */
function updatedPhase(view: MemberView | undefined, revision: string): { phase: ClusterStatus["phase"]; message?: string } {
  if (!view?.reachable) return { phase: "Progressing" };
  if (view.missing) return { phase: "Progressing", message: "the Rollout does not exist in the member" };
  if (view.revision !== revision) return { phase: "Progressing", message: "the member's template is not this revision" };
  if (view.phase === "Degraded")
    return { phase: "Degraded", message: brief(view.message ?? "the member's Rollout is Degraded", MAX_MESSAGE) };
  if (view.phase === "Healthy" && view.settled) return { phase: "Healthy" };
  return { phase: "Progressing", ...(view.message ? { message: brief(view.message, MAX_MESSAGE) } : {}) };
}

/** Reachability and the member's own words, recorded on every look. */
function withView(c: ClusterStatus, view: MemberView | undefined): ClusterStatus {
  const { reachable: _r, code: _c, message: _m, ...rest } = c;
  if (!view)
    return {
      ...rest,
      reachable: false,
      code: "MEMBER_NOT_FOUND",
      message: "no such member (no ClusterProfile or kubeconfig Secret)",
    };
  if (!view.reachable) return { ...rest, reachable: false, code: view.code, message: brief(view.message, MAX_MESSAGE) };
  return view.missing ? { ...rest, code: "MEMBER_ROLLOUT_NOT_FOUND" } : rest;
}

interface Ctx {
  o: FleetObserved;
  actions: FleetAction[];
  event: (reason: EventReason, message: string, warning?: boolean) => void;
  now: string;
}

export function planFleet(o: FleetObserved): FleetPlan {
  const actions: FleetAction[] = [];
  const ctx: Ctx = {
    o,
    actions,
    event: (reason, message, warning) => actions.push({ type: "event", reason, message, ...(warning ? { warning } : {}) }),
    now: o.now.toISOString(),
  };
  const fresh = o.status.revision !== o.revision || !o.status.waves;
  let status: FleetRolloutStatus = fresh ? freshStatus(o) : structuredClone(o.status);
  if (fresh) ctx.event(EventReason.RevisionStarted, `releasing revision ${o.revision} in ${o.spec.waves.length} waves`);
  // Intent from the CLI belongs to the revision it was given for.
  if (fresh) {
    if (o.status.abort) status.abort = undefined;
    if (o.status.promote) status.promote = undefined;
  }
  status.observedGeneration = o.generation;
  const waves = status.waves as WaveStatus[];

  // Members that cannot be reached are reported whatever the phase.
  for (const w of waves) {
    w.clusters = w.clusters.map((c) => {
      const next = withView(c, o.views[c.name]);
      if (next.reachable === false && c.reachable !== false && c.phase !== "Pending" && c.phase !== "Skipped") {
        ctx.event(EventReason.ClusterUnreachable, `${c.name}: ${next.message}`, true);
      }
      return next;
    });
  }

  if (status.phase === "Progressing") status = progress(ctx, status, waves);
  if (status.phase === "RollingBack") status = rollBack(ctx, status, waves);
  const busy = status.phase === "Progressing" || status.phase === "RollingBack";
  const soakLeft = busy ? soakRemaining(o, status) : undefined;
  const requeueAfterMs = busy ? Math.min(RESYNC_MS, soakLeft ?? RESYNC_MS) : undefined;
  return { actions, status, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
}

function soakRemaining(o: FleetObserved, status: FleetRolloutStatus): number | undefined {
  const w = status.waves?.[status.currentWave ?? 0];
  if (w?.phase !== "Soaking" || !w.healthyAt) return undefined;
  return Math.max(0, Date.parse(w.healthyAt) + soakMs(o.spec.waves[status.currentWave ?? 0]?.soak) - o.now.getTime());
}

function stop(ctx: Ctx, status: FleetRolloutStatus, waves: WaveStatus[], reason: string): FleetRolloutStatus {
  const current = status.currentWave ?? 0;
  for (const w of waves.slice(current + 1)) {
    w.phase = "Skipped";
    w.clusters = w.clusters.map((c) => ({ ...c, phase: "Skipped" }));
  }
  const wave = waves[current];
  if (wave) {
    wave.phase = "Degraded";
    wave.message = reason;
    wave.clusters = wave.clusters.map((c) => (c.phase === "Pending" ? { ...c, phase: "Skipped" } : c));
  }
  const rollback = ctx.o.spec.onFailure === "rollback";
  ctx.event(EventReason.FleetStopped, `${reason}; no further wave starts${rollback ? "; rolling back" : ""}`, true);
  return {
    ...status,
    phase: rollback ? "RollingBack" : "Degraded",
    stopReason: reason,
    message: rollback ? `${reason}; rolling back` : `${reason}; stopped (onFailure: pause)`,
  };
}

function progress(ctx: Ctx, status: FleetRolloutStatus, waves: WaveStatus[]): FleetRolloutStatus {
  const { o } = ctx;
  if (status.abort) return stop(ctx, status, waves, "aborted by ramp fleet abort");
  const index = status.currentWave ?? 0;
  const wave = waves[index];
  const spec = o.spec.waves[index];
  if (!wave || !spec) return { ...status, phase: "Healthy", message: "every wave is Healthy" };
  if (wave.phase === "Pending") {
    wave.phase = "Progressing";
    wave.startedAt = ctx.now;
    ctx.event(
      EventReason.WaveStarted,
      `wave ${index + 1} (${wave.name}): ${wave.clusters.map((c) => c.name).join(", ") || "no clusters"}`,
    );
  }

  // Each updated cluster's phase from its member; a Degraded one stops the fleet.
  for (const c of wave.clusters) {
    if (c.phase === "Pending") continue;
    const view = o.views[c.name];
    // Started but not carrying the revision (the write was lost, or someone changed it): set it again.
    if (view?.reachable && !view.missing && view.revision !== o.revision) ctx.actions.push({ type: "update", cluster: c.name });
    const next = updatedPhase(view, o.revision);
    if (next.phase === "Healthy" && c.phase !== "Healthy") ctx.event(EventReason.ClusterHealthy, `${c.name} is Healthy`);
    c.phase = next.phase;
    if (c.reachable !== false) {
      if (next.message) c.message = next.message;
      else delete c.message;
    }
  }
  const degraded = wave.clusters.find((c) => c.phase === "Degraded");
  if (degraded) return stop(ctx, status, waves, `${degraded.name} is Degraded${degraded.message ? `: ${degraded.message}` : ""}`);

  // Start clusters while fewer than maxConcurrent are under way. An unreachable one is never started.
  const limit = spec.maxConcurrent ?? wave.clusters.length;
  let inFlight = wave.clusters.filter((c) => c.phase === "Progressing").length;
  for (const c of wave.clusters) {
    if (inFlight >= limit) break;
    if (c.phase !== "Pending" || c.reachable === false) continue;
    ctx.actions.push({ type: "update", cluster: c.name });
    ctx.event(EventReason.ClusterUpdated, `${c.name}: template set to revision ${o.revision}`);
    c.phase = "Progressing";
    c.updatedAt = ctx.now;
    inFlight++;
  }

  const allHealthy = wave.clusters.every((c) => c.phase === "Healthy" && c.reachable !== false);
  const promoted = status.promote === true;
  if (!allHealthy) {
    // Health must hold for the whole soak: a cluster that stops being Healthy (or reachable) restarts it.
    if (wave.phase !== "Progressing") ctx.event(EventReason.WaveHeld, `wave ${index + 1}: a cluster is no longer Healthy`, true);
    wave.phase = "Progressing";
    delete wave.healthyAt;
    const waiting = wave.clusters.filter((c) => c.phase !== "Healthy" || c.reachable === false).map((c) => c.name);
    const unreachable = wave.clusters.filter((c) => c.reachable === false).map((c) => c.name);
    wave.message = unreachable.length ? `held: ${unreachable.join(", ")} cannot be reached` : `waiting for ${waiting.join(", ")}`;
    return { ...status, message: `wave ${index + 1} (${wave.name}): ${wave.message}` };
  }
  if (!wave.healthyAt) wave.healthyAt = ctx.now;
  const soakEnds = Date.parse(wave.healthyAt) + soakMs(spec.soak);
  if (!promoted && o.now.getTime() < soakEnds) {
    wave.phase = "Soaking";
    wave.message = `soaking until ${new Date(soakEnds).toISOString()}`;
    return { ...status, message: `wave ${index + 1} (${wave.name}): ${wave.message}` };
  }
  if (spec.analysis && !promoted) {
    const name = wave.analysisRun?.name ?? analysisRunName(o.name, o.revision, index);
    const phase = o.analysisRuns[name];
    if (!wave.analysisRun) {
      ctx.actions.push({ type: "createAnalysis", wave: index, name });
      ctx.event(EventReason.AnalysisStarted, `wave ${index + 1}: AnalysisRun ${name}`);
    }
    wave.analysisRun = { name, ...(phase ? { phase } : {}) };
    if (phase && FAILED_ANALYSIS.has(phase)) return stop(ctx, status, waves, `wave ${index + 1}'s analysis ${name} is ${phase}`);
    if (phase !== "Successful") {
      wave.phase = "Analyzing";
      wave.message = `waiting for AnalysisRun ${name}`;
      return { ...status, message: `wave ${index + 1} (${wave.name}): ${wave.message}` };
    }
  }
  wave.phase = "Healthy";
  wave.message = promoted ? "promoted" : "Healthy";
  ctx.event(EventReason.WaveHealthy, `wave ${index + 1} (${wave.name}) is done`);
  const next = index + 1;
  const rest = { ...status, promote: undefined, currentWave: Math.min(next, waves.length - 1) };
  if (next >= waves.length) {
    ctx.event(EventReason.FleetHealthy, `revision ${o.revision} is Healthy in every wave`);
    return { ...rest, phase: "Healthy", message: "every wave is Healthy" };
  }
  // Carry on at once: the next wave starts in this same reconcile.
  return progress(ctx, { ...rest, currentWave: next }, waves);
}

/** Returns the updated clusters to their previous template, one wave at a time, the last first. */
function rollBack(ctx: Ctx, status: FleetRolloutStatus, waves: WaveStatus[]): FleetRolloutStatus {
  const { o } = ctx;
  for (let i = Math.min(status.currentWave ?? 0, waves.length - 1); i >= 0; i--) {
    const wave = waves[i] as WaveStatus;
    const touched = wave.clusters.filter((c) => c.phase !== "Pending" && c.phase !== "Skipped" && c.phase !== "RolledBack");
    if (touched.length === 0) continue;
    let waiting = 0;
    for (const c of touched) {
      const view = o.views[c.name];
      if (!view?.reachable) {
        waiting++;
        continue;
      }
      if (view.missing || (view.revision !== o.revision && view.rolledBackFrom !== o.revision)) {
        // Never carried this revision (or someone changed it since): nothing of ours to undo.
        c.phase = "RolledBack";
        continue;
      }
      if (view.revision === o.revision) {
        ctx.actions.push({ type: "rollback", cluster: c.name });
        ctx.event(EventReason.ClusterRollingBack, `${c.name}: template set back to its previous one`);
        waiting++;
        continue;
      }
      if (view.phase === "Healthy" && view.settled) {
        c.phase = "RolledBack";
        delete c.message;
        ctx.event(EventReason.ClusterRolledBack, `${c.name} is back on its previous revision`);
      } else waiting++;
    }
    if (waiting > 0) {
      wave.message = "rolling back";
      return { ...status, message: `${status.stopReason ?? "stopped"}; rolling back wave ${i + 1} (${wave.name})` };
    }
    wave.phase = "RolledBack";
    wave.message = "rolled back";
  }
  ctx.event(EventReason.FleetRolledBack, "every updated cluster is back on its previous revision", true);
  return { ...status, phase: "RolledBack", message: `${status.stopReason ?? "stopped"}; rolled back` };
}
