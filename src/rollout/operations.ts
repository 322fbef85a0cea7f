// What the `ramp` commands change on a Rollout, as merge patches computed from the object as read.
// Pure: the CLI reads, calls one of these, and writes the patches (status first, then spec).
import { isDeepStrictEqual } from "node:util";
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from "../api/pod-template-hash.ts";
import type { RolloutSpec, RolloutStatus } from "../api/rollout.ts";
import type { KubeObject } from "../kube/client.ts";
import { controllerOf, isBaseline, type Meta, type PodTemplate, REVISION_ANNOTATION, type ReplicaSetObject } from "./objects.ts";
import { rollbackWithinWindow } from "./plan/common.ts";
import { intentOf } from "./plan/intent.ts";

export type LiveRollout = KubeObject & { metadata: Meta; spec: RolloutSpec; status?: RolloutStatus };

export interface RolloutChange {
  /** Merge patch of the status subresource; none: leave it. */
  status?: Partial<RolloutStatus>;
  /** Merge patch of spec; none: leave it. */
  spec?: Record<string, unknown>;
  /** What happened, for people: completes `rollout "NAME" ...`. */
  summary: string;
}

/** Whether the Rollout controls `o` (one of its ReplicaSets or AnalysisRuns). */
export const controls = (r: LiveRollout, o: { metadata: Meta }): boolean =>
  r.metadata.uid !== undefined && o.metadata.namespace === r.metadata.namespace && controllerOf(o)?.uid === r.metadata.uid;

const isPaused = (s: RolloutStatus) => (s.pauseConditions?.length ?? 0) > 0 || s.controllerPause === true;
const isStable = (s: RolloutStatus) => s.stableRS !== undefined && s.stableRS === s.currentPodHash;
const unpause = (r: LiveRollout) => (r.spec.paused ? { spec: { paused: false } } : {});

/** Canary: move past what holds the rollout (a pause, analysis or gate step, or the current step when
 * nothing does); blue-green: clear the pause before the switch. `full` skips every step and analysis. */
export function promote(r: LiveRollout, full = false): RolloutChange {
  const s = r.status ?? {};
  if (intentOf(s).abort) throw new Error(`rollout "${r.metadata.name}" is aborted; \`ramp retry\` starts it again`);
  if (isStable(s) && !isPaused(s) && !r.spec.paused) {
    return { summary: `has nothing to promote: revision ${s.stableRS} is already stable` };
  }
  if (full) {
    const status = { promoteFull: true, pauseConditions: [], controllerPause: false };
    return { ...unpause(r), status, summary: "promoted fully: skipping the remaining steps and analysis" };
  }
  const steps = r.spec.strategy.canary?.steps;
  if (!steps) {
    // controllerPause without pauseConditions is "promoted" (intentOf).
    if (!isPaused(s)) return { ...unpause(r), summary: r.spec.paused ? "resumed" : "is not paused; nothing to promote" };
    return { ...unpause(r), status: { pauseConditions: [] }, summary: "promoted: switching to the new revision" };
  }
  // spec.paused alone is `ramp pause`: promote undoes it without skipping a step.
  if (r.spec.paused && !isPaused(s)) return { ...unpause(r), summary: "resumed" };
  const index = s.currentStepIndex ?? 0;
  const step = steps[index];
  // A background analysis can pause on any step: promoting then clears the pause but keeps the step.
  const skip =
    !isPaused(s) ||
    step?.pause !== undefined ||
    step?.analysis !== undefined ||
    step?.gate !== undefined ||
    step?.errorBudget !== undefined;
  const next = skip ? Math.min(index + 1, steps.length) : index;
  return {
    ...unpause(r),
    status: { currentStepIndex: next, ...(isPaused(s) ? { pauseConditions: [], controllerPause: false } : {}) },
    summary: next < steps.length ? `promoted to step ${next + 1} of ${steps.length}` : "promoted past the last step",
  };
}

export function abort(r: LiveRollout): RolloutChange {
  const s = r.status ?? {};
  if (intentOf(s).abort) return { summary: "is already aborted" };
  if (isStable(s)) return { summary: `has nothing to abort: revision ${s.stableRS} is stable` };
  // An abort withdraws a retry the controller has not taken up yet.
  const status = s.retry ? { abort: true, retry: false } : { abort: true };
  return { status, summary: "aborted: traffic goes back to the stable revision" };
}

/** Asks for the retry; the controller takes it up, clearing abort, its pauses and the steps done. */
export function retry(r: LiveRollout): RolloutChange {
  const intent = intentOf(r.status ?? {});
  if (intent.retry) return { summary: "is already being retried" };
  if (!intent.abort) return { summary: "is not aborted; nothing to retry" };
  return { status: { retry: true }, summary: "retrying the update" };
}

export const pause = (r: LiveRollout): RolloutChange =>
  r.spec.paused ? { summary: "is already paused" } : { spec: { paused: true }, summary: "paused" };

/** Undoes `ramp pause`. Pauses the controller set stay: clearing them would restart a timed pause;
 * `ramp promote` is what moves past them. */
export const resume = (r: LiveRollout): RolloutChange =>
  r.spec.paused ? { spec: { paused: false }, summary: "resumed" } : { summary: "is not paused (spec.paused); nothing to resume" };

/** The next whole second (pod creation times are whole seconds): every pod that exists now was
 * created before it, also one created earlier in this same second (one created in the rest of it is
 * replaced too, which is harmless). The planner deletes nothing before that time comes. */
export const restart = (now: Date): RolloutChange => {
  const at = new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000).toISOString().replace(/\.\d+Z$/, "Z");
  return { spec: { restartAt: at }, summary: `restarting: pods created before ${at} are replaced` };
};

function templateOf(r: LiveRollout): PodTemplate {
  if (r.spec.template) return r.spec.template;
  const ref = r.spec.workloadRef?.name;
  throw new Error(`rollout "${r.metadata.name}" takes its pod template from Deployment "${ref}" (workloadRef); change it there`);
}

/** `CONTAINER=IMAGE` for containers and init containers. */
export function setImages(r: LiveRollout, assignments: string[]): RolloutChange {
  const template = templateOf(r);
  const images = new Map<string, string>();
  for (const a of assignments) {
    const [, name, image] = /^([^=]+)=(.+)$/.exec(a) ?? [];
    if (!name || !image) throw new Error(`expected CONTAINER=IMAGE, got "${a}"`);
    images.set(name, image);
  }
  const spec = template.spec as PodTemplate["spec"] & { initContainers?: { name: string; image: string }[] };
  const known = [...spec.containers, ...(spec.initContainers ?? [])].map((c) => c.name);
  const unknown = [...images.keys()].filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new Error(
      `rollout "${r.metadata.name}" has no container ${unknown.map((n) => `"${n}"`).join(", ")}; it has ${known.join(", ")}`,
    );
  }
  const swap = <C extends { name: string; image: string }>(list: C[]) =>
    list.map((c) => ({ ...c, image: images.get(c.name) ?? c.image }));
  const next = {
    ...template,
    spec: {
      ...spec,
      containers: swap(spec.containers),
      ...(spec.initContainers ? { initContainers: swap(spec.initContainers) } : {}),
    },
  };
  const set = [...images].map(([n, i]) => `${n}=${i}`).join(", ");
  return { spec: { template: mergePatch(template, next) }, summary: `image set: ${set}` };
}

export const revisionOf = (rs: ReplicaSetObject): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
export const hashOf = (rs: ReplicaSetObject): string => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "";

/** Back to revision `toRevision`, or to the newest revision other than the current template's.
 * `replicaSets` may hold others' too: the Rollout's own are picked. */
export function undo(r: LiveRollout, replicaSets: ReplicaSetObject[], toRevision?: number): RolloutChange {
  const template = templateOf(r);
  const currentHash = podTemplateHash(template);
  // A baseline runs the stable template but is no revision to go back to.
  const owned = replicaSets.filter((rs) => controls(r, rs) && !isBaseline(rs));
  const byRevision = owned.sort((a, b) => revisionOf(b) - revisionOf(a));
  const target =
    toRevision === undefined
      ? byRevision.find((rs) => hashOf(rs) !== currentHash)
      : byRevision.find((rs) => revisionOf(rs) === toRevision);
  if (!target) {
    const revisions = byRevision.map(revisionOf).reverse().join(", ") || "none";
    throw new Error(
      toRevision === undefined
        ? `rollout "${r.metadata.name}" has no earlier revision to go back to (revisions: ${revisions})`
        : `rollout "${r.metadata.name}" has no revision ${toRevision} (revisions: ${revisions})`,
    );
  }
  const revision = `revision ${revisionOf(target)} (${hashOf(target)})`;
  if (hashOf(target) === currentHash) return { summary: `is already at ${revision}` };
  const window = r.spec.rollbackWindow?.revisions ?? 0;
  const known = owned.map((rs) => ({ hash: hashOf(rs), revision: revisionOf(rs) }));
  const fast =
    rollbackWithinWindow(window, hashOf(target), r.status?.stableRS, known) === undefined
      ? ""
      : `; within rollbackWindow (${window}): no steps or analysis`;
  const { [POD_TEMPLATE_HASH_LABEL]: _, ...labels } = target.spec.template.metadata?.labels ?? {};
  const unlabelled = { ...target.spec.template, metadata: { ...target.spec.template.metadata, labels } };
  const stored = owned.find((rs) => hashOf(rs) === currentHash)?.spec.template ?? template;
  const restored = unstore(unlabelled, template, stored);
  // The controller finds a revision's ReplicaSet by hash: a template that hashes otherwise is rolled out anew.
  const hash = podTemplateHash(restored);
  const note = hash === hashOf(target) ? "" : `; its stored template hashes to ${hash}, so it rolls out as a new revision`;
  return { spec: { template: mergePatch(template, restored) }, summary: `back to ${revision}${note || fast}` };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The item of `list` paired with `item`: the one of the same name (containers, volumes...), else the one at `i`. */
const partner = (list: unknown[], item: unknown, i: number) =>
  isRecord(item) && typeof item.name === "string" ? list.find((x) => isRecord(x) && x.name === item.name) : list[i];

/** A ReplicaSet's template as it was written: the apiserver stores templates with defaults added
 * (imagePullPolicy, dnsPolicy...) and empty lists dropped. What it did to the current template
 * (`written`, stored as `stored`) is undone on `target`, so that it hashes as when first written. */
export function unstore(target: unknown, written: unknown, stored: unknown): unknown {
  if (Array.isArray(target) && Array.isArray(written) && Array.isArray(stored)) {
    return target.map((item, i) => unstore(item, partner(written, item, i), partner(stored, item, i)));
  }
  if (!isRecord(target) || !isRecord(written) || !isRecord(stored)) return target;
  const out: Json = {};
  for (const [k, v] of Object.entries(target)) {
    const added = !(k in written) && k in stored && isDeepStrictEqual(stored[k], v);
    if (!added) out[k] = unstore(v, written[k], stored[k]);
  }
  for (const [k, v] of Object.entries(written)) if (!(k in stored) && !(k in target)) out[k] = v;
  return out;
}

/** The JSON merge patch (RFC 7386) that turns `from` into `to`: removed keys become null, lists are replaced. */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isRecord(from) || !isRecord(to)) return to;
  const patch: Json = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) if (!isDeepStrictEqual(from[k], v)) patch[k] = mergePatch(from[k], v);
  return patch;
}

/** How `ramp status -w` ends once the controller has seen the current spec: 0 Healthy, 1 Degraded;
 * undefined: keep watching. */
export function settled(r: LiveRollout): 0 | 1 | undefined {
  const s = r.status;
  if (!s || s.observedGeneration !== r.metadata.generation) return undefined;
  if (s.phase === "Healthy") return 0;
  // A retry the controller has not yet taken up is no verdict.
  return s.phase === "Degraded" && !intentOf(s).retry ? 1 : undefined;
}
