// Pure canary planner: the observed Rollout and its ReplicaSets + now -> actions, status, requeue.
// With no traffic router the weight is carried by replica counts (the router seam comes later).
import type { CanaryStep, RolloutStatus } from "../../api/rollout.ts";
import { durationMs } from "./durations.ts";
import { canaryTargets, rollingLimits, rollingStep } from "./replicas.ts";
import type { Action, Observed, ObservedReplicaSet, Plan } from "./types.ts";

export const NEW_REPLICA_SET = "(new)";

/** The weight in force at a step: the last setWeight at or before it. */
export function weightAt(steps: CanaryStep[], index: number): number {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const w = steps[i]?.setWeight;
    if (w !== undefined) return w;
  }
  return 0;
}

/** The setCanaryScale in force at a step, unless a later one asked to match the weight again. */
export function canaryScaleAt(steps: CanaryStep[], index: number): CanaryStep["setCanaryScale"] {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const s = steps[i]?.setCanaryScale;
    if (s) return s.matchTrafficWeight ? undefined : s;
  }
  return undefined;
}

const PAUSE_STEP = "CanaryPauseStep";
const ms = (iso: string) => new Date(iso).getTime();

export function planCanary(o: Observed): Plan {
  const canary = o.spec.strategy.canary;
  if (!canary) throw new Error("planCanary needs spec.strategy.canary");
  const steps = canary.steps ?? [];
  const replicas = o.spec.replicas;
  const now = o.now.getTime();
  const nowIso = o.now.toISOString();
  const actions: Action[] = [];
  const event = (reason: string, message: string, warning = false) =>
    actions.push({ type: "event", reason, message, ...(warning ? { warning } : {}) });
  const requeue: number[] = [];
  let status: RolloutStatus = { ...o.status };

  // A new pod template starts the steps again; the first revision and a return to the stable one skip them.
  if (status.currentPodHash !== o.templateHash) {
    const first = !status.stableRS;
    const backToStable = status.stableRS === o.templateHash;
    const { abort: _a, abortedAt: _b, promoteFull: _c, pauseConditions: _d, ...rest } = status;
    status = { ...rest, currentPodHash: o.templateHash, currentStepIndex: first || backToStable ? steps.length : 0 };
    if (first) status.stableRS = o.templateHash;
    event(
      "RolloutUpdated",
      first
        ? `first revision ${o.templateHash}`
        : backToStable
          ? `back to the stable revision ${o.templateHash}; steps skipped`
          : `new revision ${o.templateHash}; starting ${steps.length} steps`,
    );
  }

  const newRS = o.replicaSets.find((r) => r.hash === o.templateHash);
  const stableRS = o.replicaSets.find((r) => r.hash === status.stableRS && r !== newRS);
  const newName = newRS?.name ?? NEW_REPLICA_SET;
  const limits = { replicas, ...rollingLimits(replicas, canary.maxSurge, canary.maxUnavailable) };
  const completed = status.stableRS === o.templateHash;
  const done = completed || (status.currentStepIndex ?? 0) >= steps.length || status.promoteFull === true;

  // Old ReplicaSets keep their pods until their scale-down time (set when they stopped being stable).
  const held = (r: ObservedReplicaSet) => r !== newRS && r.scaleDownAt !== undefined && ms(r.scaleDownAt) > now;
  for (const r of o.replicaSets.filter(held)) requeue.push(ms(r.scaleDownAt as string) - now);

  const counted = [
    newRS ?? { name: NEW_REPLICA_SET, hash: o.templateHash, revision: 0, replicas: 0, current: 0, ready: 0, available: 0 },
    ...o.replicaSets.filter((r) => r !== newRS),
  ];

  /** Each ReplicaSet's goal for the status as it stands, and the weight that goes with it. */
  const goals = (): { weight: number; targets: Record<string, number> } => {
    const targets: Record<string, number> = {};
    let weight: number;
    if (status.abort && !completed) {
      weight = 0;
      const until = ms(status.abortedAt ?? nowIso) + canary.abortScaleDownDelaySeconds * 1000;
      targets[newName] = now < until ? (newRS?.replicas ?? 0) : 0;
      if (stableRS) targets[stableRS.name] = replicas;
    } else if (done || (status.currentStepIndex ?? 0) >= steps.length || status.promoteFull) {
      weight = 100;
      targets[newName] = replicas;
      // Stable keeps what the surge allows until the new pods are all available, then goes after the delay.
      if (stableRS && !completed) targets[stableRS.name] = Math.min(stableRS.replicas, limits.maxSurge);
    } else {
      const index = status.currentStepIndex ?? 0;
      weight = weightAt(steps, index);
      const t = canaryTargets(replicas, weight, canaryScaleAt(steps, index));
      targets[newName] = t.canary;
      if (stableRS) targets[stableRS.name] = t.stable;
    }
    for (const r of o.replicaSets.filter(held)) targets[r.name] = r.replicas;
    return { weight, targets };
  };
  const atGoals = (targets: Record<string, number>) =>
    counted.every((r) => {
      const goal = targets[r.name] ?? 0;
      return r.replicas === goal && r.available >= goal;
    });

  if (status.abort && !completed) {
    if (!status.abortedAt) {
      status.abortedAt = nowIso;
      event("RolloutAborted", `aborted at step ${status.currentStepIndex ?? 0}; traffic back to stable`, true);
    }
    const until = ms(status.abortedAt) + canary.abortScaleDownDelaySeconds * 1000;
    if (now < until) requeue.push(until - now);
  }

  // Walk the steps as far as the observed state allows.
  if (!done && !status.abort && !o.spec.paused) {
    for (let guard = 0; guard <= steps.length; guard++) {
      const index = status.currentStepIndex ?? 0;
      const step = steps[index];
      if (!step) break;
      let complete = false;
      if (step.setWeight !== undefined || step.setCanaryScale) {
        complete = atGoals(goals().targets);
      } else if (step.pause) {
        const pause = status.pauseConditions?.find((p) => p.reason === PAUSE_STEP);
        const duration = step.pause.duration === undefined ? undefined : durationMs(step.pause.duration);
        if (!pause) {
          status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_STEP, startTime: nowIso }];
          event(
            "RolloutPaused",
            duration === undefined
              ? `paused at step ${index} until promoted`
              : `paused at step ${index} for ${step.pause.duration}`,
          );
          if (duration !== undefined) requeue.push(duration);
        } else if (duration !== undefined) {
          const left = ms(pause.startTime) + duration - now;
          if (left <= 0) {
            status.pauseConditions = status.pauseConditions?.filter((p) => p.reason !== PAUSE_STEP);
            event("RolloutResumed", `pause of step ${index} is over`);
            complete = true;
          } else requeue.push(left);
        }
      } else if (step.setHeaderRoute || step.setMirrorRoute) {
        complete = true; // a router's job; with no router there is nothing to route
      }
      // Analysis steps wait here until the AnalysisRun contract exists.
      if (!complete) break;
      status.currentStepIndex = index + 1;
      event("StepCompleted", `step ${index + 1} of ${steps.length} completed`);
    }
  }

  // Scale towards the goals of the step the walk ended on.
  const { weight, targets } = goals();
  const next = rollingStep(counted, targets, limits);
  if (!newRS) {
    const revision = Math.max(0, ...o.replicaSets.map((r) => r.revision)) + 1;
    actions.push({ type: "createReplicaSet", hash: o.templateHash, revision, replicas: next[NEW_REPLICA_SET] ?? 0 });
  }
  for (const r of o.replicaSets) {
    const n = next[r.name] ?? r.replicas;
    if (n !== r.replicas) actions.push({ type: "scaleReplicaSet", name: r.name, replicas: n });
  }
  const atTargets = atGoals(targets);

  // Promotion completes once the new pods are all available; old stable pods go after the delay.
  const promoted = status.stableRS !== o.templateHash && !status.abort && weight === 100;
  if (promoted && newRS && newRS.replicas === replicas && newRS.available >= replicas) {
    const previous = status.stableRS;
    status.stableRS = o.templateHash;
    status.currentStepIndex = steps.length;
    if (stableRS && stableRS.replicas > 0) {
      const at = new Date(now + canary.scaleDownDelaySeconds * 1000).toISOString();
      actions.push({ type: "setScaleDownAt", name: stableRS.name, at });
      requeue.push(canary.scaleDownDelaySeconds * 1000);
    }
    event("RolloutCompleted", `revision ${o.templateHash} is stable (was ${previous})`);
  }

  status = withCounts(status, o, weight, atTargets);
  return { actions, status, ...(requeue.length ? { requeueAfterMs: Math.max(0, Math.min(...requeue)) } : {}) };
}

/** Replica counts, weights, phase and message, all derived from what was observed. */
function withCounts(status: RolloutStatus, o: Observed, weight: number, atTargets: boolean): RolloutStatus {
  const canary = o.spec.strategy.canary;
  const newRS = o.replicaSets.find((r) => r.hash === o.templateHash);
  const sum = (f: (r: ObservedReplicaSet) => number) => o.replicaSets.reduce((n, r) => n + f(r), 0);
  const steps = canary?.steps ?? [];
  const index = status.currentStepIndex ?? 0;
  // Old pods waiting out their scale-down delay get no traffic and do not make the rollout unhealthy.
  const healthy = status.stableRS === o.templateHash && (newRS?.available ?? 0) >= o.spec.replicas;
  const paused = o.spec.paused || (status.pauseConditions?.length ?? 0) > 0;
  const phase = status.abort ? "Degraded" : paused ? "Paused" : healthy ? "Healthy" : "Progressing";
  const message = status.abort
    ? `aborted: traffic back to stable revision ${status.stableRS}`
    : paused
      ? `paused at step ${index} of ${steps.length}${o.spec.paused ? " (spec.paused)" : ""}`
      : healthy
        ? `healthy at revision ${o.templateHash}`
        : status.stableRS === o.templateHash
          ? `scaling revision ${o.templateHash} to ${o.spec.replicas}`
          : `step ${Math.min(index + 1, steps.length)} of ${steps.length}: canary at ${weight}%${atTargets ? "" : ", scaling"}`;
  const labels = o.spec.selector.matchLabels ?? {};
  return {
    ...status,
    observedGeneration: o.generation,
    phase,
    message,
    replicas: sum((r) => r.current),
    updatedReplicas: newRS?.current ?? 0,
    readyReplicas: sum((r) => r.ready),
    availableReplicas: sum((r) => r.available),
    selector: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    canary: {
      ...status.canary,
      weights: {
        canary: {
          weight: status.stableRS === o.templateHash ? 0 : weight,
          podTemplateHash: o.templateHash,
          ...(canary?.canaryService ? { serviceName: canary.canaryService } : {}),
        },
        stable: {
          weight: status.stableRS === o.templateHash ? 100 : 100 - weight,
          ...(status.stableRS ? { podTemplateHash: status.stableRS } : {}),
          ...(canary?.stableService ? { serviceName: canary.stableService } : {}),
        },
      },
    },
  };
}
