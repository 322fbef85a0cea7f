// The planner the shell calls: the strategy's planner, wrapped in what every strategy shares —
// InvalidSpec, the progress deadline, conditions, revision history, restarts and workloadRef.
import { brief, MAX_STATUS_MESSAGE } from "../../api/brief.ts";
import { ConditionReason, EventReason } from "../../api/reasons.ts";
import type { RefusedTemplate, RolloutStatus } from "../../api/rollout.ts";
import { planBlueGreen } from "./bluegreen.ts";
import { planCanary } from "./canary.ts";
import { type Condition, type ConditionType, Decisions, observedCounts, savedRevision, setCondition } from "./common.ts";
import { withKstatusConditions } from "./kstatus.ts";
import type { Action, Observed, Plan } from "./types.ts";

const ms = (iso: string) => new Date(iso).getTime();

const without = (conditions: Condition[], type: ConditionType) => conditions.filter((c) => c.type !== type);

/** What counts as progress for the deadline: any of these changing, including a step's or a
 * promotion's analysis starting or ending (background analysis runs beside the steps and is not). */
const progressMark = (s: RolloutStatus) =>
  JSON.stringify([
    s.currentPodHash,
    s.stableRS,
    s.currentStepIndex,
    s.updatedReplicas,
    s.readyReplicas,
    s.availableReplicas,
    ...[s.canary?.currentStepAnalysisRun, s.blueGreen?.prePromotionAnalysisRun, s.blueGreen?.postPromotionAnalysisRun].map(
      (run) => [run?.name, run?.phase],
    ),
  ]);

export function planRollout(o: Observed): Plan {
  const nowIso = o.now.toISOString();
  if (o.invalidSpec !== undefined) return planInvalid(o, o.invalidSpec);

  const plan = o.spec.strategy.canary ? planCanary(o) : planBlueGreen(o);
  const d = new Decisions();
  // A valid spec: no refusal holds any more.
  const { refusedTemplate: _, ...planned } = plan.status;
  let status: RolloutStatus = planned;
  let conditions = without(status.conditions ?? [], "InvalidSpec");

  const lost = stableReplicaSetFailure(o, status, plan.actions);
  if (lost) {
    const already = conditions.find((c) => c.type === "ReplicaFailure")?.reason === lost.reason;
    if (lost.reason === ConditionReason.StableReplicaSetLost && !already) {
      d.event(EventReason.StableReplicaSetLost, lost.message, true);
    }
    conditions = setCondition(conditions, { type: "ReplicaFailure", status: "True", ...lost }, nowIso);
    status = { ...status, message: `${status.message ?? ""}; ${lost.message}` };
  } else conditions = without(conditions, "ReplicaFailure");

  // The progress deadline: no progress for progressDeadlineSeconds while progressing. A step's or a
  // promotion's analysis gets the same deadline from its start, so one that never ends cannot hold
  // the rollout for ever. Only a change of the mark moves lastUpdateTime: a reconcile that changes
  // nothing writes nothing, and its own write never wakes it again.
  const progressing = conditions.find((c) => c.type === "Progressing");
  const moved = progressMark(o.status) !== progressMark(status) || !progressing;
  const lastProgress = moved ? nowIso : (progressing?.lastUpdateTime ?? nowIso);
  const deadline = ms(lastProgress) + o.spec.progressDeadlineSeconds * 1000;
  // Once exceeded it stays so until something moves.
  const exceeded =
    status.phase === "Progressing" &&
    !moved &&
    (progressing?.reason === ConditionReason.ProgressDeadlineExceeded || o.now.getTime() >= deadline);
  if (exceeded) {
    if (progressing?.reason !== ConditionReason.ProgressDeadlineExceeded) {
      d.event(EventReason.ProgressDeadlineExceeded, `no progress for ${o.spec.progressDeadlineSeconds}s`, true);
    }
    conditions = setCondition(
      conditions,
      {
        type: "Progressing",
        status: "False",
        reason: ConditionReason.ProgressDeadlineExceeded,
        message: `no progress for ${o.spec.progressDeadlineSeconds}s: ${status.message ?? ""}`,
      },
      nowIso,
    );
    status = { ...status, phase: "Degraded", message: `progress deadline exceeded: ${status.message ?? ""}` };
    if (o.spec.progressDeadlineAbort && !status.abort) {
      status.abort = true;
      d.requeueIn(0);
    }
  } else {
    const reason =
      status.phase === "Healthy"
        ? ConditionReason.RolloutCompleted
        : status.phase === "Paused"
          ? ConditionReason.RolloutPaused
          : status.phase === "Degraded"
            ? ConditionReason.RolloutAborted
            : ConditionReason.ReplicaSetUpdated;
    conditions = setCondition(conditions, { type: "Progressing", status: "True", reason, message: status.message }, nowIso);
    if (moved) conditions = conditions.map((c) => (c.type === "Progressing" ? { ...c, lastUpdateTime: nowIso } : c));
    if (status.phase === "Progressing") d.requeueIn(deadline - o.now.getTime());
  }
  const available = (status.availableReplicas ?? 0) >= o.spec.replicas;
  conditions = setCondition(conditions, { type: "Available", status: available ? "True" : "False" }, nowIso);
  conditions = setCondition(conditions, { type: "Healthy", status: status.phase === "Healthy" ? "True" : "False" }, nowIso);
  conditions = setCondition(conditions, { type: "Paused", status: status.phase === "Paused" ? "True" : "False" }, nowIso);
  status = withKstatusConditions({ ...status, conditions }, nowIso);

  trimHistory(o, status, plan.actions, d);
  status = restartPods(o, status, d);
  scaleAdoptedDeployment(o, status, d);

  const merged = d.plan(status);
  return {
    ...plan,
    actions: [...plan.actions, ...merged.actions],
    status,
    ...mergedRequeue(plan.requeueAfterMs, merged.requeueAfterMs),
  };
}

function mergedRequeue(a: number | undefined, b: number | undefined): { requeueAfterMs?: number } {
  const all = [a, b].filter((x): x is number => x !== undefined);
  return all.length ? { requeueAfterMs: Math.min(...all) } : {};
}

/** A spec the CRD could not catch: say so and change nothing, so the running version keeps running. */
function planInvalid(o: Observed, problem: string): Plan {
  const before = { ...o.status, ...observedCounts(o) };
  const { status, events } = invalidSpecStatus(before, problem, o.now, o.generation, o.refusedTemplate);
  const d = new Decisions();
  for (const e of events) d.event(e.reason, e.message, true);
  return d.plan(status);
}

/** The status that reports an invalid spec of `generation` (observed: there is nothing more to do
 * with it), with the refused template when that is the problem, and the event to record when the
 * problem is new. */
export function invalidSpecStatus(
  before: RolloutStatus,
  reported: string,
  now: Date,
  generation: number,
  refusal?: RefusedTemplate,
): { status: RolloutStatus; events: { reason: EventReason; message: string }[] } {
  // Bounded before it is compared, so a long problem that stays the same is not new every time.
  const problem = brief(reported, MAX_STATUS_MESSAGE);
  const refused = refusal && { ...refusal, message: brief(refusal.message, MAX_STATUS_MESSAGE) };
  const old = before.conditions?.find((c) => c.type === "InvalidSpec");
  const fresh = old?.status !== "True" || old.message !== problem;
  const conditions = setCondition(
    before.conditions ?? [],
    { type: "InvalidSpec", status: "True", reason: ConditionReason.InvalidSpec, message: problem },
    now.toISOString(),
  );
  const { refusedTemplate: _, ...rest } = before;
  const status = {
    ...rest,
    ...(refused ? { refusedTemplate: refused } : {}),
    observedGeneration: generation,
    phase: "Degraded" as const,
    message: `invalid spec: ${problem}`,
    conditions,
  };
  return {
    status: withKstatusConditions(status, now.toISOString()),
    events: fresh ? [{ reason: EventReason.InvalidSpec, message: problem }] : [],
  };
}

/** The refusal that still holds: the apiserver refused the ReplicaSet of revision `templateHash`
 * and the spec (`generation`) has not changed since, so creating it again would be refused again. */
export function heldRefusal(status: RolloutStatus, generation: number, templateHash: string): RefusedTemplate | undefined {
  const refused = status.refusedTemplate;
  return refused?.podTemplateHash === templateHash && status.observedGeneration === generation ? refused : undefined;
}

/** The status to write when the traffic router failed: the last status as it was (nothing the
 * router did not confirm is recorded), with Progressing False saying why, and the event when new. */
export function trafficErrorStatus(
  before: RolloutStatus,
  problem: string,
  now: Date,
): { status: RolloutStatus; events: { reason: EventReason; message: string }[] } {
  const old = before.conditions?.find((c) => c.type === "Progressing");
  const fresh = old?.reason !== ConditionReason.TrafficRoutingError || old.message !== problem;
  const conditions = setCondition(
    before.conditions ?? [],
    { type: "Progressing", status: "False", reason: ConditionReason.TrafficRoutingError, message: problem },
    now.toISOString(),
  );
  return {
    status: withKstatusConditions(
      { ...before, message: `traffic routing failed, retrying: ${problem}`, conditions },
      now.toISOString(),
    ),
    events: fresh ? [{ reason: EventReason.TrafficRoutingError, message: problem }] : [],
  };
}

/** Mid-update the spec holds the new template, so a deleted stable ReplicaSet is made again from the
 * template saved for its revision: ReplicaFailure says so until its pods are available again, or, with
 * no usable template saved, that it cannot be and what to do. */
function stableReplicaSetFailure(
  o: Observed,
  status: RolloutStatus,
  actions: Action[],
): { reason: ConditionReason; message: string } | undefined {
  const hash = status.stableRS;
  if (hash === undefined || hash === o.templateHash) return undefined;
  const name = `${o.name}-${hash}`;
  const rs = o.replicaSets.find((r) => r.hash === hash);
  const recreating = actions.some((a) => a.type === "createReplicaSet" && a.fromRevision !== undefined);
  const wasRecreated =
    status.conditions?.find((c) => c.type === "ReplicaFailure")?.reason === ConditionReason.StableReplicaSetRecreated;
  if (recreating || (rs && wasRecreated && rs.available < rs.replicas)) {
    const pods = rs ? `: ${rs.available} of ${rs.replicas} pods available` : "";
    return {
      reason: ConditionReason.StableReplicaSetRecreated,
      message: `the stable ReplicaSet ${name} was deleted and is recreated from its saved template (ControllerRevision ${name})${pods}`,
    };
  }
  // Gone with a usable template but no pods wanted on it now: made again once some are.
  if (rs || savedRevision(o, hash)) return undefined;
  const saved = o.revisions.find((r) => r.hash === hash);
  const why = saved
    ? `its saved template (ControllerRevision ${saved.name}) ${saved.problem}`
    : `no ControllerRevision ${name} holds its template`;
  return {
    reason: ConditionReason.StableReplicaSetLost,
    message: `the stable ReplicaSet ${name} is gone and cannot be recreated (${why}): promote to finish on revision ${o.templateHash}, or undo`,
  };
}

/** Revision history: the current and the stable revisions' templates are saved (a ControllerRevision
 * each) where a restarted controller finds them; old ReplicaSets with no pods left and old saved
 * templates beyond revisionHistoryLimit go, oldest first. */
function trimHistory(o: Observed, status: RolloutStatus, planned: Action[], d: Decisions): void {
  const keep = new Set([o.templateHash, status.stableRS]);
  const idle = o.replicaSets
    .filter((r) => !keep.has(r.hash) && r.replicas === 0 && r.current === 0)
    .sort((a, b) => b.revision - a.revision);
  for (const r of idle.slice(o.spec.revisionHistoryLimit)) d.actions.push({ type: "deleteReplicaSet", name: r.name });

  for (const hash of keep) {
    const saved = o.revisions.find((r) => r.hash === hash);
    // An unusable copy of the spec's template goes, and is saved again once its deletion is seen.
    if (saved?.problem !== undefined && hash === o.templateHash) d.actions.push({ type: "deleteRevision", name: saved.name });
    if (!hash || saved) continue;
    const created = planned.find((a) => a.type === "createReplicaSet" && a.hash === hash && a.fromRevision === undefined);
    // The current template is the spec's; another revision's is only in its ReplicaSet.
    const revision =
      o.replicaSets.find((r) => r.hash === hash)?.revision ??
      (hash === o.templateHash && created?.type === "createReplicaSet" ? created.revision : undefined);
    if (revision !== undefined) d.actions.push({ type: "saveRevision", hash, revision });
  }
  const old = o.revisions.filter((r) => !keep.has(r.hash)).sort((a, b) => b.revision - a.revision);
  for (const r of old.slice(o.spec.revisionHistoryLimit)) d.actions.push({ type: "deleteRevision", name: r.name });
}

/** spec.restartAt: replace the pods older than it one at a time, each once the Rollout is whole. */
function restartPods(o: Observed, status: RolloutStatus, d: Decisions): RolloutStatus {
  const at = o.spec.restartAt;
  if (!at || !o.restart || status.restartedAt === at) return status;
  const whole =
    o.restart.terminating === 0 &&
    o.replicaSets.every((r) => r.current === r.replicas && r.available >= r.replicas) &&
    (status.availableReplicas ?? 0) >= o.spec.replicas;
  // Done once the last replacement is available too, so a finished restart reads Healthy.
  if (o.restart.pods.length === 0) {
    if (!whole) return status;
    d.event(EventReason.RolloutRestarted, `every pod created before ${at} was replaced`);
    return { ...status, restartedAt: at };
  }
  const pod = o.restart.pods[0];
  const wait = ms(at) - o.now.getTime();
  // A restartAt still ahead (ramp restart takes the next second) wakes the rollout when it comes.
  if (whole && pod && wait > 0) d.requeueIn(wait);
  else if (whole && pod) d.actions.push({ type: "deletePod", name: pod.name } satisfies Action);
  return status;
}

/** workloadRef: the adopted Deployment steps aside once (or as) the Rollout's pods are available. */
function scaleAdoptedDeployment(o: Observed, status: RolloutStatus, d: Decisions): void {
  const ref = o.spec.workloadRef;
  if (!ref || !o.deployment || ref.scaleDown === "never") return;
  const want =
    ref.scaleDown === "onsuccess"
      ? status.phase === "Healthy"
        ? 0
        : o.deployment.replicas
      : Math.min(o.deployment.replicas, Math.max(0, o.spec.replicas - (status.availableReplicas ?? 0)));
  if (want !== o.deployment.replicas) d.actions.push({ type: "scaleDeployment", replicas: want });
}
