// Pure canary planner: the observed Rollout and its ReplicaSets + now -> actions, status, requeue.
// With no traffic router the weight is carried by replica counts; with one, the planner says what
// the router should route (Plan.traffic) and the shell makes it so.

import { canonicalJson } from "../../api/canonical-json.ts";
import type { DesiredTraffic, HeaderRoute, MirrorRoute } from "../../api/desired-traffic.ts";
import { durationMs } from "../../api/duration.ts";
import { baselineHash } from "../../api/pod-template-hash.ts";
import { EventReason, PauseReason } from "../../api/reasons.ts";
import type { CanaryStep, ErrorBudgetState, ErrorBudgetStep, RolloutStatus } from "../../api/rollout.ts";
import {
  abortCause,
  Decisions,
  driveAnalysis,
  driveGate,
  NEW_REPLICA_SET,
  observedCounts,
  observedRollback,
  replicaSetsOf,
  scaleReplicaSets,
  terminateUnwanted,
} from "./common.ts";
import { intentOf } from "./intent.ts";
import { canaryTargets, rollingLimits, rollingStep } from "./replicas.ts";
import type { Observed, ObservedReplicaSet, Plan } from "./types.ts";

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

/** Header and mirror routes set by the steps before `index`; a step without matches removes its route. */
export function managedRoutesAt(steps: CanaryStep[], index: number): { header: HeaderRoute[]; mirror: MirrorRoute[] } {
  const header = new Map<string, HeaderRoute>();
  const mirror = new Map<string, MirrorRoute>();
  for (const step of steps.slice(0, index)) {
    const h = step.setHeaderRoute;
    if (h) h.match?.length ? header.set(h.name, { name: h.name, match: h.match }) : header.delete(h.name);
    const m = step.setMirrorRoute;
    if (m)
      m.match?.length
        ? mirror.set(m.name, { name: m.name, percentage: m.percentage ?? 100, match: m.match })
        : mirror.delete(m.name);
  }
  return { header: [...header.values()], mirror: [...mirror.values()] };
}

const ERROR_BUDGET_RECHECK = "1m";
const ms = (iso: string) => new Date(iso).getTime();
type CanaryRuns = NonNullable<RolloutStatus["canary"]>;

export function planCanary(o: Observed): Plan {
  const canary = o.spec.strategy.canary;
  if (!canary) throw new Error("planCanary needs spec.strategy.canary");
  const steps = canary.steps ?? [];
  const replicas = o.spec.replicas;
  const routed = canary.trafficRouting ? { shrinkStable: canary.dynamicStableScale } : undefined;
  const now = o.now.getTime();
  const nowIso = o.now.toISOString();
  const d = new Decisions();
  const intent = intentOf(o.status);
  // retry is a request: read once (intent), never written back.
  const { retry: _retry, ...observed } = o.status;
  let status: RolloutStatus = observed;
  const setRuns = (runs: Partial<CanaryRuns>) => {
    status.canary = { ...status.canary, ...runs };
  };
  const pauseFor = (reason: PauseReason) => {
    if (!status.pauseConditions?.some((p) => p.reason === reason))
      status.pauseConditions = [...(status.pauseConditions ?? []), { reason, startTime: nowIso }];
  };

  // `ramp retry`: start the steps again with fresh analysis.
  if (intent.retry) {
    const { abort: _a, abortedAt: _b, pauseConditions: _p, ...rest } = status;
    status = { ...rest, currentStepIndex: 0 };
    setRuns({
      currentStepAnalysisRun: undefined,
      currentBackgroundAnalysisRun: undefined,
      currentGate: undefined,
      errorBudget: undefined,
    });
    d.event(EventReason.RolloutRetried, `retrying revision ${o.templateHash} from the first step`);
  }

  // A new pod template starts the steps again; the first revision and a return to the stable one skip
  // them, and a rollback within rollbackWindow skips them and every analysis (promoteFull says so).
  if (status.currentPodHash !== o.templateHash) {
    const first = !status.stableRS;
    const backToStable = status.stableRS === o.templateHash;
    const rollback = first || backToStable ? undefined : observedRollback(o, status.stableRS);
    const { abort: _a, abortedAt: _b, promoteFull: _c, pauseConditions: _d, ...rest } = status;
    const skip = first || backToStable || rollback !== undefined;
    status = { ...rest, currentPodHash: o.templateHash, currentStepIndex: skip ? steps.length : 0 };
    if (rollback !== undefined) status.promoteFull = true;
    setRuns({
      currentStepAnalysisRun: undefined,
      currentBackgroundAnalysisRun: undefined,
      currentGate: undefined,
      errorBudget: undefined,
    });
    if (first) status.stableRS = o.templateHash;
    d.event(
      EventReason.RolloutUpdated,
      first
        ? `first revision ${o.templateHash}`
        : backToStable
          ? `back to the stable revision ${o.templateHash}; steps skipped`
          : rollback !== undefined
            ? `rollback to revision ${rollback} (${o.templateHash}) within rollbackWindow; steps and analysis skipped`
            : `new revision ${o.templateHash}; starting ${steps.length} steps`,
    );
  }

  const sets = replicaSetsOf(o, status.stableRS);
  const { newRS, stableRS, counted } = sets;
  const newName = newRS?.name ?? NEW_REPLICA_SET;
  const rolling = rollingLimits(replicas, canary.maxSurge, canary.maxUnavailable);
  // Behind a router the stable ReplicaSet keeps every pod while the canary grows beside it (as in Argo
  // Rollouts): the canary's pods are extra by design, so maxSurge would only deadlock the steps.
  const limits = { replicas, ...rolling, ...(routed && !routed.shrinkStable ? { maxSurge: replicas } : {}) };
  const completed = status.stableRS === o.templateHash;
  const stepsDone = () => completed || (status.currentStepIndex ?? 0) >= steps.length || status.promoteFull === true;
  const abortFor = (why: string) => {
    status.abort = true;
    d.event(EventReason.RolloutAborted, `aborted at step ${(status.currentStepIndex ?? 0) + 1}: ${why}`, true);
    status.abortedAt = nowIso;
  };

  // Old ReplicaSets keep their pods until their scale-down time (set when they stopped being stable).
  const held = (r: ObservedReplicaSet) => r !== newRS && r.scaleDownAt !== undefined && ms(r.scaleDownAt) > now;
  for (const r of o.replicaSets.filter(held)) d.requeueIn(ms(r.scaleDownAt as string) - now);

  /** Each ReplicaSet's goal for the status as it stands, and the weight that goes with it. */
  const goals = (): { weight: number; targets: Record<string, number> } => {
    const targets: Record<string, number> = {};
    let weight: number;
    if (status.abort && !completed) {
      weight = 0;
      const until = ms(status.abortedAt ?? nowIso) + canary.abortScaleDownDelaySeconds * 1000;
      targets[newName] = now < until ? (newRS?.replicas ?? 0) : 0;
      if (stableRS) targets[stableRS.name] = replicas;
    } else if (stepsDone()) {
      weight = 100;
      targets[newName] = replicas;
      // Stable keeps what the surge allows until the new pods are all available, then goes after the delay.
      if (stableRS && !completed) targets[stableRS.name] = routed ? replicas : Math.min(stableRS.replicas, limits.maxSurge);
    } else {
      const index = status.currentStepIndex ?? 0;
      weight = weightAt(steps, index);
      const t = canaryTargets(replicas, weight, canaryScaleAt(steps, index), routed);
      targets[newName] = t.canary;
      if (stableRS) targets[stableRS.name] = t.stable;
    }
    for (const r of o.replicaSets.filter(held)) targets[r.name] = r.replicas;
    return { weight, targets };
  };
  // The baseline runs while the steps do, as many pods as the canary's; a step waits for both.
  const baselineName = `${o.name}-${baselineHash(o.templateHash)}`;
  const baselineWanted = () =>
    canary.baseline?.enabled === true && stableRS !== undefined && !completed && !status.abort && !stepsDone();
  const baselineAt = (goal: number) => {
    const b = o.baselines?.find((r) => r.name === baselineName);
    return b !== undefined && b.replicas === goal && b.available >= goal;
  };
  const atGoals = (targets: Record<string, number>) =>
    counted.every((r) => {
      const goal = targets[r.name] ?? 0;
      return r.replicas === goal && r.available >= goal;
    }) &&
    (!baselineWanted() || baselineAt(targets[newName] ?? 0));

  /** An errorBudget step: its run's verdict, a fresh run once recheckAt has come, the hold (a pause
   * with reason ErrorBudgetSpent) while the budget is spent, and its release. */
  const errorBudgetCheck = (index: number, step: ErrorBudgetStep): "wait" | "checking" | "available" => {
    const { recheckInterval = ERROR_BUDGET_RECHECK, ...analysis } = step;
    const seen = status.canary?.errorBudget;
    const state: ErrorBudgetState = seen?.stepIndex === index ? { ...seen } : { stepIndex: index, checks: 0 };
    if (state.recheckAt !== undefined && now < ms(state.recheckAt)) {
      d.requeueIn(ms(state.recheckAt) - now);
      return "wait";
    }
    const before = state.recheckAt === undefined ? status.canary?.currentStepAnalysisRun : undefined;
    const { ref, verdict } = driveAnalysis(o, d, before, "step", o.templateHash, analysis, index);
    if (ref.name !== before?.name) {
      state.checks++;
      delete state.recheckAt;
    }
    if (ref.message) state.message = ref.message;
    let outcome: "checking" | "available" = "checking";
    if (verdict === "Successful") {
      if (state.spentSince) {
        status.pauseConditions = status.pauseConditions?.filter((p) => p.reason !== PauseReason.ErrorBudgetSpent);
        d.event(
          EventReason.ErrorBudgetAvailable,
          `step ${index + 1}: the error budget has recovered (analysis run ${ref.name}); going on`,
        );
      }
      delete state.spentSince;
      delete state.code;
      outcome = "available";
    } else if (verdict !== "Pending") {
      const recheckMs = durationMs(recheckInterval);
      if (!state.spentSince) {
        state.spentSince = nowIso;
        pauseFor(PauseReason.ErrorBudgetSpent);
        d.event(
          EventReason.RolloutPaused,
          `paused at step ${index + 1}: error budget spent (analysis run ${ref.name} ${verdict.toLowerCase()}); rechecking every ${recheckInterval}, promote to skip`,
          true,
        );
      }
      state.code = "ERROR_BUDGET_SPENT";
      state.recheckAt = new Date(now + recheckMs).toISOString();
      d.requeueIn(recheckMs);
    }
    setRuns({ currentStepAnalysisRun: ref, errorBudget: state });
    return outcome;
  };

  // Walk the steps as far as the observed state allows.
  if (!stepsDone() && !status.abort && !o.spec.paused) {
    for (let guard = 0; guard <= steps.length && !status.abort; guard++) {
      const index = status.currentStepIndex ?? 0;
      const step = steps[index];
      if (!step) break;
      let complete = false;
      if (step.setWeight !== undefined || step.setCanaryScale) {
        const { weight, targets } = goals();
        complete = atGoals(targets) && (weight === 0 || !routed || canaryServiceServes(o, targets[newName] ?? 0));
      } else if (step.pause) {
        const pause = status.pauseConditions?.find((p) => p.reason === PauseReason.CanaryPauseStep);
        const duration = step.pause.duration === undefined ? undefined : durationMs(step.pause.duration);
        if (!pause) {
          pauseFor(PauseReason.CanaryPauseStep);
          d.event(
            EventReason.RolloutPaused,
            duration === undefined
              ? `paused at step ${index + 1} until promoted`
              : `paused at step ${index + 1} for ${step.pause.duration}`,
          );
          if (duration !== undefined) d.requeueIn(duration);
        } else if (duration !== undefined) {
          const left = ms(pause.startTime) + duration - now;
          if (left <= 0) {
            status.pauseConditions = status.pauseConditions?.filter((p) => p.reason !== PauseReason.CanaryPauseStep);
            d.event(EventReason.RolloutResumed, `pause of step ${index + 1} is over`);
            complete = true;
          } else d.requeueIn(left);
        }
      } else if (step.analysis) {
        if (status.pauseConditions?.some((p) => p.reason === PauseReason.InconclusiveAnalysisRun)) break;
        const { ref, verdict } = driveAnalysis(
          o,
          d,
          status.canary?.currentStepAnalysisRun,
          "step",
          o.templateHash,
          step.analysis,
          index,
        );
        setRuns({ currentStepAnalysisRun: ref });
        if (verdict === "Successful") complete = true;
        else if (verdict === "Failed" || verdict === "Error") abortFor(`analysis run ${ref.name} ${verdict.toLowerCase()}`);
        else if (verdict === "Inconclusive") {
          pauseFor(PauseReason.InconclusiveAnalysisRun);
          d.event(
            EventReason.RolloutPaused,
            `paused at step ${index + 1}: analysis run ${ref.name} inconclusive; promote or abort`,
          );
        }
      } else if (step.setHeaderRoute || step.setMirrorRoute) {
        complete = true; // the routes of executed steps are part of Plan.traffic
      } else if (step.gate) {
        if (status.pauseConditions?.some((p) => p.reason === PauseReason.GateFailed)) break;
        const { state, verdict, why } = driveGate(o, d, status.canary?.currentGate, step.gate, index);
        setRuns({ currentGate: state });
        if (verdict === "Passed") complete = true;
        else if (verdict === "Failed" && step.gate.onFailure === "abort") abortFor(why ?? "");
        else if (verdict === "Failed") {
          pauseFor(PauseReason.GateFailed);
          d.event(EventReason.RolloutPaused, `paused at step ${index + 1}: ${why}; promote to skip the gate, or abort`);
        }
      } else if (step.errorBudget) {
        const held = errorBudgetCheck(index, step.errorBudget);
        if (held === "wait") break;
        complete = held === "available";
      }
      if (!complete) break;
      status.currentStepIndex = index + 1;
      d.event(EventReason.StepCompleted, `step ${index + 1} of ${steps.length} completed`);
    }
  }

  // Background analysis measures the canary from startingStep until it is stable, aborted or promoted fully.
  const { startingStep = 0, ...background } = canary.analysis ?? { templates: [] };
  if (canary.analysis && !completed && !status.abort && !status.promoteFull && (status.currentStepIndex ?? 0) >= startingStep) {
    const before = status.canary?.currentBackgroundAnalysisRun;
    const { ref, verdict } = driveAnalysis(o, d, before, "background", o.templateHash, background);
    setRuns({ currentBackgroundAnalysisRun: ref });
    if (verdict === "Failed" || verdict === "Error") abortFor(`background analysis run ${ref.name} ${verdict.toLowerCase()}`);
    else if (verdict === "Inconclusive" && before?.phase !== "Inconclusive") {
      pauseFor(PauseReason.InconclusiveAnalysisRun);
      d.event(EventReason.RolloutPaused, `background analysis run ${ref.name} inconclusive; promote or abort`);
    }
  }

  if (status.abort && !completed) {
    if (!status.abortedAt) abortFor("requested");
    const until = ms(status.abortedAt as string) + canary.abortScaleDownDelaySeconds * 1000;
    if (now < until) d.requeueIn(until - now);
  }

  // Scale towards the goals of the step the walk ended on.
  const { weight, targets } = goals();
  const next = rollingStep(counted, targets, limits);
  scaleReplicaSets(o, d, sets, next);
  const atTargets = atGoals(targets);
  planBaseline(o, d, baselineName, stableRS?.hash ?? "", baselineWanted() ? (next[newName] ?? 0) : undefined);

  // Promotion completes once the new pods are all available; old stable pods go after the delay.
  const promoted = status.stableRS !== o.templateHash && !status.abort && weight === 100;
  if (promoted && newRS && newRS.replicas === replicas && newRS.available >= replicas) {
    const previous = status.stableRS;
    status.stableRS = o.templateHash;
    status.currentStepIndex = steps.length;
    status.pauseConditions = [];
    // The delay lets a switch of traffic (a router's, or the stable Service's selector) reach every
    // proxy before the pods behind it go. With neither, the old pods serve beside the new ones until
    // they go, so they go at once (as in Argo Rollouts, whose delay needs traffic routing).
    if (stableRS && stableRS.replicas > 0 && (routed || canary.stableService)) {
      const at = new Date(now + canary.scaleDownDelaySeconds * 1000).toISOString();
      d.actions.push({ type: "setScaleDownAt", name: stableRS.name, at });
      d.requeueIn(canary.scaleDownDelaySeconds * 1000);
    }
    d.event(EventReason.RolloutCompleted, `revision ${o.templateHash} is stable (was ${previous})`);
  }

  // Services: stable follows the stable revision; canary follows the new one, but never points at
  // pods that are going away (after an abort it follows stable).
  const stableHash = status.stableRS ?? o.templateHash;
  const canaryHash = status.abort || !newRS ? stableHash : o.templateHash;
  for (const [service, hash] of [
    [canary.stableService, stableHash],
    [canary.canaryService, canaryHash],
  ] as const) {
    if (service && o.services[service] !== hash) d.actions.push({ type: "setServiceSelector", service, hash });
  }

  const traffic = routed ? desiredTraffic(o, d, status, weight, newRS, targets[newName] ?? 0) : undefined;
  const waiting = !atTargets
    ? ", scaling"
    : traffic && traffic.weight < weight && !canaryServiceServes(o, targets[newName] ?? 0)
      ? `, waiting for the endpoints of Service "${canary.canaryService}"`
      : "";
  status = withCounts(status, o, traffic?.weight ?? weight, waiting);
  if (traffic) status = withTrafficVerdict(o, status, d);
  terminateUnwanted(o, d);
  return d.plan(status, traffic);
}

/** How soon to look again at a route its router has not accepted yet. */
export const VERIFY_RETRY_MS = 5_000;

/** The router's verdict (Observed.trafficVerified) belongs to the traffic it was last told: weights,
 * header or mirror routes this reconcile changes are not verified yet. A router that can tell and has
 * not accepted them is looked at again soon, as nothing else wakes the controller when a Gateway
 * gets round to it. */
function withTrafficVerdict(o: Observed, status: RolloutStatus, d: Decisions): RolloutStatus {
  const weights = status.canary?.weights;
  if (!weights || o.trafficVerified === undefined) return status;
  const verified = canonicalJson(toldIn(o, o.status)) === canonicalJson(toldIn(o, status)) && o.trafficVerified;
  if (!verified) d.requeueIn(VERIFY_RETRY_MS);
  return { ...status, canary: { ...status.canary, weights: { ...weights, verified } } };
}

/** The traffic a status records as told to the router: its weights (with the revisions), and the
 * header and mirror routes of its step. */
function toldIn(o: Observed, status: RolloutStatus) {
  const { verified: _, ...weights } = status.canary?.weights ?? {};
  return { weights, routes: managedRoutesOf(o, status) };
}

/** Ramp's header and mirror routes: those of the steps done so far, none once the canary is over
 * (aborted, stable, or promoted in full). */
function managedRoutesOf(o: Observed, status: RolloutStatus): { header: HeaderRoute[]; mirror: MirrorRoute[] } {
  const over = status.abort || status.stableRS === o.templateHash || status.promoteFull === true;
  return over ? { header: [], mirror: [] } : managedRoutesAt(o.spec.strategy.canary?.steps ?? [], status.currentStepIndex ?? 0);
}

/** The baseline beside the canary: made, or scaled with it, while `replicas` says it is wanted;
 * every other baseline (an earlier canary's, or this one's once the steps end) goes. */
function planBaseline(o: Observed, d: Decisions, name: string, stableHash: string, replicas: number | undefined): void {
  const current = o.baselines?.find((b) => b.name === name);
  for (const b of o.baselines ?? []) {
    if (b !== current || replicas === undefined) d.actions.push({ type: "deleteReplicaSet", name: b.name });
  }
  if (replicas === undefined) return;
  if (!current) {
    d.actions.push({ type: "createBaselineReplicaSet", hash: baselineHash(o.templateHash), fromHash: stableHash, replicas });
  } else if (current.replicas !== replicas) d.actions.push({ type: "scaleReplicaSet", name, replicas });
}

/** What the router should do: the step's weight once the canary has the pods for it (until then the
 * weight it already had), nothing on the canary after an abort or once it is stable, and the
 * header and mirror routes of the steps done so far. */
function desiredTraffic(
  o: Observed,
  d: Decisions,
  status: RolloutStatus,
  stepWeight: number,
  newRS: ObservedReplicaSet | undefined,
  canaryGoal: number,
): DesiredTraffic {
  const stableHash = status.stableRS ?? o.templateHash;
  const available = (newRS?.available ?? 0) >= Math.max(1, canaryGoal);
  const ready = available && canaryServiceServes(o, canaryGoal);
  const previous = o.status.canary?.weights?.canary.weight ?? 0;
  // The EndpointSlice's change wakes the rollout; this covers one the cache has not told of.
  if (available && !ready && stepWeight > previous) d.requeueIn(VERIFY_RETRY_MS);
  const weight = status.abort || status.stableRS === o.templateHash ? 0 : ready ? stepWeight : Math.min(previous, stepWeight);
  const routes = managedRoutesOf(o, status);
  return { weight, canaryHash: o.templateHash, stableHash, headerRoutes: routes.header, mirrorRoutes: routes.mirror };
}

/** Whether the canary Service has the ready endpoints for `goal` canary pods (at least one). The
 * EndpointSlice controller adds a pod a moment after its ReplicaSet counts it available: nothing is
 * sent to the Service, and no weight step ends, before. */
function canaryServiceServes(o: Observed, goal: number): boolean {
  return o.canaryEndpoints === undefined || o.canaryEndpoints >= Math.max(1, goal);
}

/** Counts, weights, phase and message, all derived from what was observed. */
function withCounts(status: RolloutStatus, o: Observed, weight: number, waiting: string): RolloutStatus {
  const canary = o.spec.strategy.canary;
  const newRS = o.replicaSets.find((r) => r.hash === o.templateHash);
  const steps = canary?.steps ?? [];
  const index = status.currentStepIndex ?? 0;
  // Old pods waiting out their scale-down delay get no traffic and do not make the rollout unhealthy.
  const healthy = status.stableRS === o.templateHash && (newRS?.available ?? 0) >= o.spec.replicas;
  const paused = o.spec.paused || (status.pauseConditions?.length ?? 0) > 0;
  const phase = status.abort ? "Degraded" : paused ? "Paused" : healthy ? "Healthy" : "Progressing";
  const message = status.abort
    ? `aborted: traffic back to stable revision ${status.stableRS}${abortCause([status.canary?.currentStepAnalysisRun, status.canary?.currentBackgroundAnalysisRun])}`
    : paused
      ? `paused at step ${Math.min(index + 1, steps.length)} of ${steps.length}${o.spec.paused ? " (spec.paused)" : ""}${
          status.pauseConditions?.some((p) => p.reason === PauseReason.ErrorBudgetSpent)
            ? `: error budget spent, next check at ${status.canary?.errorBudget?.recheckAt ?? "once the run ends"}`
            : ""
        }`
      : healthy
        ? `healthy at revision ${o.templateHash}`
        : status.stableRS === o.templateHash
          ? `scaling revision ${o.templateHash} to ${o.spec.replicas}`
          : `step ${Math.min(index + 1, steps.length)} of ${steps.length}: canary at ${weight}%${waiting}`;
  const stable = status.stableRS === o.templateHash;
  return {
    ...status,
    ...observedCounts(o),
    phase,
    message,
    canary: {
      ...status.canary,
      weights: {
        canary: {
          weight: stable ? 0 : weight,
          podTemplateHash: o.templateHash,
          ...(canary?.canaryService ? { serviceName: canary.canaryService } : {}),
        },
        stable: {
          weight: stable ? 100 : 100 - weight,
          ...(status.stableRS ? { podTemplateHash: status.stableRS } : {}),
          ...(canary?.stableService ? { serviceName: canary.stableService } : {}),
        },
      },
    },
  };
}
