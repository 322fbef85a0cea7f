// Pure pieces both strategies share: collecting decisions, and driving AnalysisRuns.

import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import { durationMs } from "../../api/duration.ts";
import { type ConditionReason, EventReason, type KstatusReason } from "../../api/reasons.ts";
import type { GateState, GateStep, RolloutStatus } from "../../api/rollout.ts";
import type {
  Action,
  AnalysisRole,
  Observed,
  ObservedAnalysisRun,
  ObservedReplicaSet,
  ObservedRevision,
  Plan,
  RolloutAnalysis,
} from "./types.ts";

export type Condition = NonNullable<RolloutStatus["conditions"]>[number];
export type ConditionType = Condition["type"];

/** Sets a condition, keeping lastTransitionTime while its status stays the same. */
export function setCondition(
  conditions: Condition[],
  next: Omit<Condition, "lastTransitionTime" | "lastUpdateTime" | "reason"> & { reason?: ConditionReason | KstatusReason },
  now: string,
): Condition[] {
  const old = conditions.find((c) => c.type === next.type);
  const updated: Condition = {
    ...next,
    lastTransitionTime: old && old.status === next.status ? (old.lastTransitionTime ?? now) : now,
    lastUpdateTime: old && old.status === next.status && old.reason === next.reason ? (old.lastUpdateTime ?? now) : now,
  };
  return [...conditions.filter((c) => c.type !== next.type), updated].sort((a, b) => a.type.localeCompare(b.type));
}

export type AnalysisRunRef = NonNullable<NonNullable<RolloutStatus["canary"]>["currentStepAnalysisRun"]>;

/** Collects what a planner decides: actions, events, when to look again, and the runs still wanted. */
export class Decisions {
  readonly actions: Action[] = [];
  private readonly requeue: number[] = [];
  /** AnalysisRuns that should go on measuring; every other running one is terminated. */
  readonly wantedRuns = new Set<string>();

  event(reason: EventReason, message: string, warning = false): void {
    this.actions.push({ type: "event", reason, message, ...(warning ? { warning } : {}) });
  }

  requeueIn(ms: number): void {
    this.requeue.push(Math.max(0, ms));
  }

  plan(status: RolloutStatus, traffic?: DesiredTraffic): Plan {
    return {
      actions: this.actions,
      status,
      ...(traffic ? { traffic } : {}),
      ...(this.requeue.length ? { requeueAfterMs: Math.min(...this.requeue) } : {}),
    };
  }
}

/** Placeholders in replica targets for the ReplicaSets a plan creates. */
export const NEW_REPLICA_SET = "(new)";
export const STABLE_REPLICA_SET = "(stable)";

const placeholder = (name: string, hash: string, revision: number): ObservedReplicaSet => ({
  name,
  hash,
  revision,
  replicas: 0,
  current: 0,
  ready: 0,
  available: 0,
});

/** The saved template of a revision, when there is one that can be used. */
export const savedRevision = (o: Observed, hash: string): ObservedRevision | undefined =>
  o.revisions.find((r) => r.hash === hash && r.problem === undefined);

/** rollbackWindow, as in Argo Rollouts: `target` is a revision older than the stable one, with fewer
 * than `window` revisions between them. `known` are the revisions by hash (the planner knows them by
 * their ReplicaSets and saved templates, so one trimmed from the history is outside any window).
 * Returns the revision gone back to. */
export function rollbackWithinWindow(
  window: number,
  target: string,
  stableHash: string | undefined,
  known: { hash: string; revision: number }[],
): number | undefined {
  if (window === 0 || stableHash === undefined || stableHash === target) return undefined;
  const revisionOf = new Map<string, number>();
  for (const r of known) if (r.revision > 0) revisionOf.set(r.hash, Math.max(revisionOf.get(r.hash) ?? 0, r.revision));
  const back = revisionOf.get(target);
  const stable = revisionOf.get(stableHash);
  if (back === undefined || stable === undefined || back >= stable) return undefined;
  const between = [...revisionOf.values()].filter((r) => r > back && r < stable).length;
  return between < window ? back : undefined;
}

/** The rollback within the window the observed template is, if it is one (its revision). */
export const observedRollback = (o: Observed, stableHash: string | undefined): number | undefined =>
  rollbackWithinWindow(o.spec.rollbackWindow?.revisions ?? 0, o.templateHash, stableHash, [...o.revisions, ...o.replicaSets]);

export interface ReplicaSets {
  /** The current template's ReplicaSet, once it exists. */
  newRS: ObservedReplicaSet | undefined;
  /** The stable revision's, when it is another one than the new: as observed, or a placeholder when
   * it was deleted and its template was saved, so the plan makes it again. */
  stableRS: ObservedReplicaSet | undefined;
  /** What the replica maths counts: the new one first (a placeholder until it exists), then the others. */
  counted: ObservedReplicaSet[];
}

export function replicaSetsOf(o: Observed, stableHash: string | undefined): ReplicaSets {
  const newRS = o.replicaSets.find((r) => r.hash === o.templateHash);
  const observedStable = o.replicaSets.find((r) => r.hash === stableHash && r !== newRS);
  const saved = stableHash !== undefined && stableHash !== o.templateHash ? savedRevision(o, stableHash) : undefined;
  const lostStable = !observedStable && saved ? placeholder(STABLE_REPLICA_SET, saved.hash, saved.revision) : undefined;
  return {
    newRS,
    stableRS: observedStable ?? lostStable,
    counted: [
      newRS ?? placeholder(NEW_REPLICA_SET, o.templateHash, 0),
      ...o.replicaSets.filter((r) => r !== newRS),
      ...(lostStable ? [lostStable] : []),
    ],
  };
}

/** Creates what `sets` holds placeholders for (a deleted stable ReplicaSet only when the plan wants
 * pods on it) and scales the observed ReplicaSets to `next`. */
export function scaleReplicaSets(o: Observed, d: Decisions, sets: ReplicaSets, next: Record<string, number>): void {
  if (!sets.newRS) {
    const revision = Math.max(0, ...o.replicaSets.map((r) => r.revision), ...o.revisions.map((r) => r.revision)) + 1;
    d.actions.push({ type: "createReplicaSet", hash: o.templateHash, revision, replicas: next[NEW_REPLICA_SET] ?? 0 });
  }
  const lost = sets.stableRS?.name === STABLE_REPLICA_SET ? sets.stableRS : undefined;
  const saved = lost && savedRevision(o, lost.hash);
  const replicas = next[STABLE_REPLICA_SET] ?? 0;
  if (lost && saved && replicas > 0) {
    d.actions.push({ type: "createReplicaSet", hash: lost.hash, revision: lost.revision, replicas, fromRevision: saved.name });
    d.event(
      EventReason.StableReplicaSetRecreated,
      `the stable ReplicaSet ${o.name}-${lost.hash} was deleted; recreating it with ${replicas} replicas from ControllerRevision ${saved.name}`,
      true,
    );
  }
  for (const r of o.replicaSets) {
    const n = next[r.name] ?? r.replicas;
    if (n !== r.replicas) d.actions.push({ type: "scaleReplicaSet", name: r.name, replicas: n });
  }
}

const ROLE_SUFFIX: Record<Exclude<AnalysisRole, "step">, string> = {
  background: "bg",
  prePromotion: "pre",
  postPromotion: "post",
};

/** `<rollout>-<hash>-<role>`, with `.2`, `.3`... when an earlier attempt (before a retry) holds the name. */
export function analysisRunName(o: Observed, role: AnalysisRole, hash: string, stepIndex?: number): string {
  const base = `${o.name}-${hash}-${role === "step" ? `step${stepIndex ?? 0}` : ROLE_SUFFIX[role]}`;
  const taken = new Set(o.analysisRuns.map((r) => r.name));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}.${n}`)) n++;
  return `${base}.${n}`;
}

export type AnalysisVerdict = "Pending" | "Successful" | "Failed" | "Inconclusive" | "Error";

const RUN_ENDED: Record<Exclude<AnalysisVerdict, "Pending">, EventReason> = {
  Successful: EventReason.AnalysisRunSuccessful,
  Failed: EventReason.AnalysisRunFailed,
  Inconclusive: EventReason.AnalysisRunInconclusive,
  Error: EventReason.AnalysisRunError,
};

/**
 * Runs one of the Rollout's analyses: creates its AnalysisRun when the status names none for this
 * role, hash and step, and reports its verdict. Phase changes become events. Returns the reference
 * to keep in the status.
 */
export function driveAnalysis(
  o: Observed,
  d: Decisions,
  ref: AnalysisRunRef | undefined,
  role: AnalysisRole,
  hash: string,
  analysis: RolloutAnalysis,
  stepIndex?: number,
): { ref: AnalysisRunRef; verdict: AnalysisVerdict } {
  const matches = (r: ObservedAnalysisRun) =>
    r.name === ref?.name && r.role === role && r.hash === hash && (role !== "step" || r.stepIndex === stepIndex);
  const run = o.analysisRuns.find(matches);
  if (!run) {
    // The status may name a run the informer has not shown yet: only ever create a name not seen.
    if (ref && ref.phase === undefined && ref.name.startsWith(`${o.name}-${hash}-`)) {
      d.wantedRuns.add(ref.name);
      return { ref, verdict: "Pending" };
    }
    const name = analysisRunName(o, role, hash, stepIndex);
    d.actions.push({ type: "createAnalysisRun", name, role, hash, analysis, ...(stepIndex !== undefined ? { stepIndex } : {}) });
    d.wantedRuns.add(name);
    return { ref: { name }, verdict: "Pending" };
  }
  const phase = run.phase;
  const verdict: AnalysisVerdict = phase === undefined || phase === "Pending" || phase === "Running" ? "Pending" : phase;
  if (verdict === "Pending") d.wantedRuns.add(run.name);
  if (phase !== ref?.phase && verdict !== "Pending") {
    const what = `AnalysisRun ${run.name} ${verdict.toLowerCase()}${run.message ? `: ${run.message}` : ""}`;
    d.event(RUN_ENDED[verdict], what, verdict !== "Successful");
  }
  return {
    ref: { name: run.name, ...(phase ? { phase } : {}), ...(run.message ? { message: run.message } : {}) },
    verdict,
  };
}

/** Terminates the Rollout's AnalysisRuns that are still measuring but no longer wanted. */
export function terminateUnwanted(o: Observed, d: Decisions): void {
  for (const r of o.analysisRuns) {
    const running = r.phase === undefined || r.phase === "Pending" || r.phase === "Running";
    if (running && !r.terminated && !d.wantedRuns.has(r.name)) d.actions.push({ type: "terminateAnalysisRun", name: r.name });
  }
}

/** The replica counts, selector and generation every status carries, all derived from what was observed. */
export function observedCounts(o: Observed): RolloutStatus {
  const newRS = o.replicaSets.find((r) => r.hash === o.templateHash);
  const sum = (f: (r: Observed["replicaSets"][number]) => number) => o.replicaSets.reduce((n, r) => n + f(r), 0);
  return {
    observedGeneration: o.generation,
    replicas: sum((r) => r.current),
    updatedReplicas: newRS?.current ?? 0,
    readyReplicas: sum((r) => r.ready),
    availableReplicas: sum((r) => r.available),
    selector: Object.entries(o.spec.selector.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  };
}

/** Why an aborted rollout stopped, from the failed analysis run it records, for the status message. */
export function abortCause(refs: (AnalysisRunRef | undefined)[]): string {
  const failed = refs.find((r) => r?.phase === "Failed" || r?.phase === "Error");
  return failed ? ` (analysis run ${failed.name} ${failed.phase}${failed.message ? `: ${failed.message}` : ""})` : "";
}

const GATE_TIMEOUT = "10s";
const GATE_RETRY_DELAY = "5s";
/** How long past its timeout a Pending call may take to report before it counts as lost. */
const GATE_GRACE_MS = 2000;

export type GateVerdict = "Pending" | "Passed" | "Failed";

/**
 * Drives a gate: calls its URL when the status holds no result for it (`seen` is another gate's or
 * none), waits while a call is under way, calls again after retryDelay while retries are left.
 * The last failure is reported as a GateFailed event; what follows (pause or abort) is the caller's.
 * Returns the state to keep in the status and, once failed, why.
 */
export function driveGate(
  o: Observed,
  d: Decisions,
  seen: GateState | undefined,
  gate: GateStep,
  stepIndex: number,
): { state: GateState; verdict: GateVerdict; why?: string } {
  const now = o.now.getTime();
  const state = seen?.stepIndex === stepIndex && seen.name === gate.name ? seen : undefined;
  const timeoutMs = durationMs(gate.timeout ?? GATE_TIMEOUT);
  const since = state?.lastAttemptAt ? now - new Date(state.lastAttemptAt).getTime() : Number.POSITIVE_INFINITY;
  const call = (attempt: number) => {
    d.actions.push({ type: "callGate", name: gate.name, url: gate.url, stepIndex, timeoutMs, attempt });
    // The call writes its own result; this only catches one lost with its controller.
    d.requeueIn(timeoutMs + GATE_GRACE_MS);
    const pending: GateState = {
      name: gate.name,
      stepIndex,
      attempts: attempt,
      phase: "Pending",
      lastAttemptAt: o.now.toISOString(),
    };
    return { state: pending, verdict: "Pending" as const };
  };
  if (!state) return call(1);
  if (state.phase === "Passed") return { state, verdict: "Passed" };
  if (state.phase === "Error") {
    // The call could not be made (the outbound policy refused it): calling again would say the same.
    const why = `gate ${gate.name} could not be called: ${state.message ?? state.code ?? "error"}`;
    d.event(EventReason.GateFailed, why, true);
    return { state, verdict: "Failed", why };
  }
  if (state.phase === "Pending" && since < timeoutMs + GATE_GRACE_MS) {
    d.requeueIn(timeoutMs + GATE_GRACE_MS - since);
    return { state, verdict: "Pending" };
  }
  // Failed, or Pending with no result long after its timeout (the controller that called is gone).
  const failed: GateState =
    state.phase === "Failed" ? state : { ...state, phase: "Failed", message: "no result within the timeout" };
  if (failed.attempts < gate.retries + 1) {
    const waitMs = state.phase === "Failed" ? durationMs(gate.retryDelay ?? GATE_RETRY_DELAY) - since : 0;
    if (waitMs <= 0) return call(failed.attempts + 1);
    d.requeueIn(waitMs);
    return { state: failed, verdict: "Pending" };
  }
  const why = `gate ${gate.name} failed after ${failed.attempts} calls${failed.message ? `: ${failed.message}` : ""}`;
  d.event(EventReason.GateFailed, why, true);
  return { state: failed, verdict: "Failed", why };
}
