// Pure blue-green planner: the observed Rollout, its ReplicaSets and Services + now -> actions,
// status, requeue. The new revision comes up beside the stable one behind the preview Service; once
// promoted it grows to full size and the active Service switches to it at once. Stable changes only
// after that (and after post-promotion analysis), and the old pods go after a delay.
import { EventReason, PauseReason } from "../../api/reasons.ts";
import type { GateStep, RolloutStatus } from "../../api/rollout.ts";
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
import { rollingStep } from "./replicas.ts";
import type { Observed, Plan, RolloutAnalysis } from "./types.ts";

const ms = (iso: string) => new Date(iso).getTime();
type BlueGreenStatus = NonNullable<RolloutStatus["blueGreen"]>;

export function planBlueGreen(o: Observed): Plan {
  const bg = o.spec.strategy.blueGreen;
  if (!bg) throw new Error("planBlueGreen needs spec.strategy.blueGreen");
  const replicas = o.spec.replicas;
  const previewCount = bg.previewReplicaCount ?? replicas;
  const hash = o.templateHash;
  const now = o.now.getTime();
  const nowIso = o.now.toISOString();
  const d = new Decisions();
  const intent = intentOf(o.status);
  // retry is a request: read once (intent), never written back.
  const { retry: _retry, ...observed } = o.status;
  let status: RolloutStatus = observed;
  const setBlueGreen = (fields: Partial<BlueGreenStatus>) => {
    status.blueGreen = { ...status.blueGreen, ...fields };
  };
  /** Nothing of an earlier attempt (pauses, promotion, abort, analysis) carries over; the Service selectors do. */
  const startAttempt = () => {
    const { abort: _a, abortedAt: _b, promoteFull: _c, pauseConditions: _d, controllerPause: _e, ...rest } = status;
    const {
      prePromotionAnalysisRun: _f,
      postPromotionAnalysisRun: _g,
      scaleUpPreviewCheckPoint: _h,
      currentGate: _i,
      ...selectors
    } = status.blueGreen ?? {};
    status = { ...rest, blueGreen: selectors };
  };
  // What the rollout waits for, for the status message.
  let waiting = "";
  const pauseFor = (reason: PauseReason, why: string) => {
    waiting = why;
    if (status.pauseConditions?.some((p) => p.reason === reason)) return;
    status.pauseConditions = [...(status.pauseConditions ?? []), { reason, startTime: nowIso }];
    status.controllerPause = true;
    d.event(EventReason.RolloutPaused, why);
  };
  let abortReason = "requested";

  // A new pod template previews again; the first revision and a return to the stable one need no
  // preview, and a rollback within rollbackWindow skips the pauses and analysis (promoteFull says so).
  if (status.currentPodHash !== hash) {
    const first = !status.stableRS;
    const backToStable = status.stableRS === hash;
    const rollback = first || backToStable ? undefined : observedRollback(o, status.stableRS);
    startAttempt();
    status.currentPodHash = hash;
    if (first) status.stableRS = hash;
    if (rollback !== undefined) status.promoteFull = true;
    d.event(
      EventReason.RolloutUpdated,
      first
        ? `first revision ${hash}`
        : backToStable
          ? `back to the stable revision ${hash}; no preview`
          : rollback !== undefined
            ? `rollback to revision ${rollback} (${hash}) within rollbackWindow; no pause or analysis`
            : `new revision ${hash}; previewing ${previewCount} pods`,
    );
  } else if (intent.retry) {
    // `ramp retry`: preview again with fresh analysis.
    startAttempt();
    d.event(EventReason.RolloutRetried, `retrying revision ${hash} from the preview`);
  }

  const stableHash = status.stableRS ?? hash;
  const sets = replicaSetsOf(o, stableHash);
  const { newRS, stableRS, counted } = sets;
  let completed = stableHash === hash;
  // Promoted: decided (the checkpoint), already switched, or stable.
  let promoted = completed || status.blueGreen?.scaleUpPreviewCheckPoint === true || status.blueGreen?.activeSelector === hash;
  const scaleDownAt = new Map(o.replicaSets.map((r) => [r.name, r.scaleDownAt]));

  /** Drives a promotion analysis; true once it passed, or a person promoted past an inconclusive verdict. */
  const analysisPassed = (role: "prePromotion" | "postPromotion", a: RolloutAnalysis) => {
    const key = role === "prePromotion" ? "prePromotionAnalysisRun" : "postPromotionAnalysisRun";
    const before = status.blueGreen?.[key];
    const { ref, verdict } = driveAnalysis(o, d, before, role, hash, a);
    setBlueGreen({ [key]: ref });
    const what = `${role === "prePromotion" ? "pre" : "post"}-promotion analysis run ${ref.name}`;
    if (verdict === "Successful") return true;
    if (verdict === "Failed" || verdict === "Error") {
      status.abort = true;
      abortReason = `${what} ${verdict.toLowerCase()}`;
    } else if (verdict === "Inconclusive") {
      const inconclusivePause = status.pauseConditions?.some((p) => p.reason === PauseReason.InconclusiveAnalysisRun);
      if (before?.phase === "Inconclusive" && !inconclusivePause) return true;
      pauseFor(PauseReason.InconclusiveAnalysisRun, `${what} inconclusive; promote or abort`);
    } else waiting = `${what} is measuring revision ${hash}`;
    return false;
  };

  /** Drives the pre-promotion gate; true once it answered 2xx. Promoting past a failed one clears its pause. */
  const gatePassed = (gate: GateStep) => {
    if (status.pauseConditions?.some((p) => p.reason === PauseReason.GateFailed)) {
      waiting = `gate ${gate.name} failed; promote to skip it, or abort`;
      return false;
    }
    const { state, verdict, why } = driveGate(o, d, status.blueGreen?.currentGate, gate, 0);
    setBlueGreen({ currentGate: state });
    if (verdict === "Passed") return true;
    if (verdict === "Failed" && gate.onFailure === "abort") {
      status.abort = true;
      abortReason = why ?? "";
    } else if (verdict === "Failed") pauseFor(PauseReason.GateFailed, `${why}; promote to skip the gate, or abort`);
    else
      waiting = `gate ${gate.name}: call ${state.attempts} ${state.phase === "Pending" ? "under way" : "failed, calling again"}`;
    return false;
  };

  /** Whether the preview may be promoted now: ready, analysed, confirmed by the gate, and past the pause. */
  const promotion = (): boolean => {
    const { promoteFull, promoted } = intentOf(status);
    if (promoteFull || promoted) return true;
    if (!newRS || newRS.replicas < previewCount || newRS.available < previewCount) {
      waiting = `previewing revision ${hash}: ${newRS?.available ?? 0} of ${previewCount} pods available`;
      return false;
    }
    if (bg.prePromotionAnalysis && !analysisPassed("prePromotion", bg.prePromotionAnalysis)) {
      return false;
    }
    if (bg.prePromotionGate && !gatePassed(bg.prePromotionGate)) return false;
    if (!bg.autoPromotionEnabled) {
      pauseFor(PauseReason.BlueGreenPause, `revision ${hash} is ready in preview; waiting for \`ramp promote\``);
      return false;
    }
    const seconds = bg.autoPromotionSeconds ?? 0;
    if (seconds === 0) return true;
    const started = status.pauseConditions?.find((p) => p.reason === PauseReason.BlueGreenPause)?.startTime ?? nowIso;
    const left = ms(started) + seconds * 1000 - now;
    if (left > 0) {
      pauseFor(
        PauseReason.BlueGreenPause,
        `revision ${hash} is ready in preview; promoting at ${new Date(now + left).toISOString()}`,
      );
      d.requeueIn(left);
      return false;
    }
    status.pauseConditions = status.pauseConditions?.filter((p) => p.reason !== PauseReason.BlueGreenPause);
    d.event(EventReason.RolloutResumed, `promoting revision ${hash} after ${seconds}s in preview`);
    return true;
  };

  /** Stable becomes the new revision; the old stable pods go after scaleDownDelaySeconds. */
  const complete = () => {
    const { pauseConditions: _p, controllerPause: _c, blueGreen, ...rest } = status;
    const { scaleUpPreviewCheckPoint: _s, ...selectorsAndRuns } = blueGreen ?? {};
    status = { ...rest, stableRS: hash, blueGreen: selectorsAndRuns };
    completed = true;
    if (stableRS && stableRS.replicas > 0) {
      const at = new Date(now + bg.scaleDownDelaySeconds * 1000).toISOString();
      d.actions.push({ type: "setScaleDownAt", name: stableRS.name, at });
      scaleDownAt.set(stableRS.name, at);
    }
    d.event(EventReason.RolloutCompleted, `revision ${hash} is stable (was ${stableHash})`);
  };

  if (!completed && !status.abort) {
    if (o.spec.paused) {
      // Hold: decide nothing, but let the analysis under way go on measuring.
      for (const ref of [status.blueGreen?.prePromotionAnalysisRun, status.blueGreen?.postPromotionAnalysisRun]) {
        if (ref) d.wantedRuns.add(ref.name);
      }
    } else {
      if (!promoted && promotion()) {
        promoted = true;
        setBlueGreen({ scaleUpPreviewCheckPoint: true });
      }
      // Post-promotion analysis measures the new pods once the active Service is seen on them.
      if (promoted && o.services[bg.activeService] === hash) {
        const post = status.promoteFull ? undefined : bg.postPromotionAnalysis;
        if (!post || analysisPassed("postPromotion", post)) complete();
      }
    }
  }

  const aborted = status.abort === true && !completed;
  const abortUntil = ms(status.abortedAt ?? nowIso) + bg.abortScaleDownDelaySeconds * 1000;
  if (aborted) {
    if (!status.abortedAt) {
      status.abortedAt = nowIso;
      d.event(
        EventReason.RolloutAborted,
        `revision ${hash} aborted (${abortReason}); active Service back on ${stableHash}`,
        true,
      );
    }
    if (now < abortUntil) d.requeueIn(abortUntil - now);
  }

  // Services move only to a revision with pods to serve: the active one to the new revision only once
  // all of them are available; after an abort both go back to stable, so nothing routes to pods that go.
  const moveTo = (current: string | undefined, goal: string, needAvailable: number) => {
    const rs = o.replicaSets.find((r) => r.hash === goal);
    return current !== goal && rs && rs.available >= needAvailable ? goal : current;
  };
  const wasActive = status.blueGreen?.activeSelector;
  const activeGoal = aborted
    ? stableHash
    : o.spec.paused && !completed
      ? (wasActive ?? stableHash)
      : promoted
        ? hash
        : stableHash;
  const activeSelector = moveTo(wasActive, activeGoal, activeGoal === hash ? replicas : 1);
  if (activeSelector === hash && wasActive !== hash && !completed) {
    d.event(EventReason.RolloutPromoted, `active Service ${bg.activeService} switched to revision ${hash}`);
  }
  const previewSelector = bg.previewService
    ? moveTo(status.blueGreen?.previewSelector, aborted ? stableHash : hash, 1)
    : undefined;
  setBlueGreen({ activeSelector, previewSelector });
  for (const [service, selector] of [
    [bg.activeService, activeSelector],
    [bg.previewService, previewSelector],
  ] as const) {
    if (service && selector && o.services[service] !== selector)
      d.actions.push({ type: "setServiceSelector", service, hash: selector });
  }

  // Pods: the new revision at preview size until promoted, then full; stable at full until it is replaced.
  const newName = newRS?.name ?? NEW_REPLICA_SET;
  const targets: Record<string, number> = {};
  if (aborted) {
    targets[newName] = now < abortUntil ? (newRS?.replicas ?? 0) : 0;
    if (stableRS) targets[stableRS.name] = replicas;
  } else {
    targets[newName] = promoted ? replicas : previewCount;
    if (stableRS && !completed) targets[stableRS.name] = replicas;
  }
  // Old ReplicaSets keep their pods until their scale-down time, and while the active Service is still seen on them.
  for (const r of o.replicaSets) {
    const at = scaleDownAt.get(r.name);
    if (r.name in targets || at === undefined || ms(at) <= now) continue;
    targets[r.name] = r.replicas;
    d.requeueIn(ms(at) - now);
  }
  const servingRS = o.replicaSets.find((r) => r.hash === o.services[bg.activeService] && r.hash !== activeSelector);
  if (servingRS) targets[servingRS.name] = Math.max(targets[servingRS.name] ?? 0, servingRS.replicas);

  // Blue-green runs both sides at full size: the surge is whatever the targets need, and nothing
  // available goes while fewer than `replicas` would be left.
  const needed = counted.reduce((n, r) => n + (targets[r.name] ?? 0), 0);
  const next = rollingStep(counted, targets, { replicas, maxSurge: Math.max(0, needed - replicas), maxUnavailable: 0 });
  scaleReplicaSets(o, d, sets, next);

  const healthy = completed && (newRS?.available ?? 0) >= replicas;
  const paused = o.spec.paused || (status.pauseConditions?.length ?? 0) > 0;
  const phase = aborted ? "Degraded" : paused ? "Paused" : healthy ? "Healthy" : "Progressing";
  const message = aborted
    ? `aborted: active Service back on stable revision ${stableHash}${abortCause([status.blueGreen?.prePromotionAnalysisRun, status.blueGreen?.postPromotionAnalysisRun])}`
    : o.spec.paused
      ? `paused (spec.paused) at revision ${hash}`
      : healthy
        ? `healthy at revision ${hash}`
        : completed
          ? `scaling revision ${hash} to ${replicas}`
          : waiting ||
            (activeSelector === hash
              ? `active Service on revision ${hash}; stable is still ${stableHash}`
              : `promoting revision ${hash}: ${newRS?.available ?? 0} of ${replicas} pods available`);
  status = { ...status, ...observedCounts(o), phase, message };
  terminateUnwanted(o, d);
  return d.plan(status);
}
