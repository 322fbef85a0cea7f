// The Kubernetes objects the Rollout controller reads and writes, as far as it reads them, and the
// labels and annotations that tie them to their Rollout. Pure: no I/O.
import type { AnalysisRunSpec, AnalysisRunStatus } from "../api/analysis.ts";
import { type OwnerReference, ownerReference } from "../api/owner-reference.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { podTemplate, type Rollout } from "../api/rollout.ts";
import type { KubeObject } from "../kube/client.ts";
import type { AnalysisRole, ObservedAnalysisRun, ObservedReplicaSet, ObservedRevision } from "./plan/types.ts";

export const REVISION_ANNOTATION = "ramp.dev/revision";
export const SCALE_DOWN_AT_ANNOTATION = "ramp.dev/scale-down-at";
export const ROLLOUT_LABEL = "ramp.dev/rollout";
export const ANALYSIS_ROLE_LABEL = "ramp.dev/analysis-role";
export const STEP_INDEX_LABEL = "ramp.dev/step-index";
export const INSTANCE_ID_LABEL = "ramp.dev/controller-instance-id";
/** On a baseline ReplicaSet and its pods (strategy.canary.baseline): `baseline`. */
export const ROLE_LABEL = "ramp.dev/role";
export const BASELINE_ROLE = "baseline";

export interface Meta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
}

export type PodTemplate = NonNullable<Rollout["spec"]["template"]>;

export interface ReplicaSetObject extends KubeObject {
  metadata: Meta;
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    template: PodTemplate;
  };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number };
}

export interface ServiceObject extends KubeObject {
  metadata: Meta;
  spec?: { selector?: Record<string, string> };
}

export interface DeploymentObject extends KubeObject {
  metadata: Meta;
  spec: { replicas?: number; template: PodTemplate };
  status?: { availableReplicas?: number };
}

export interface PodObject extends KubeObject {
  metadata: Meta;
}

/** discovery.k8s.io/v1 EndpointSlice: the pods a Service sends traffic to, as far as it says whether they are ready. */
export interface EndpointSliceObject extends KubeObject {
  metadata: Meta;
  endpoints?: {
    conditions?: { ready?: boolean; terminating?: boolean };
    targetRef?: { kind?: string; name?: string };
  }[];
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** The apiserver's generated names: the base cut to 58 characters, then 5 random ones. */
const GENERATED_BASE_MAX = 58;
const GENERATED_SUFFIX = 5;

/** How many of a Service's ready endpoints are pods of the ReplicaSet `replicaSet`, told by name
 * (a ReplicaSet's pods are generated from "<replicaSet>-"), so a slice still listing another
 * revision's pods counts none of them. Undefined when the name cannot tell: another of `others`
 * (the Rollout's other ReplicaSets) has the same cut-off prefix. */
export function readyEndpointsOf(
  slices: EndpointSliceObject[],
  service: string,
  replicaSet: string,
  others: string[],
): number | undefined {
  const prefixOf = (rs: string) => `${rs}-`.slice(0, GENERATED_BASE_MAX);
  const prefix = prefixOf(replicaSet);
  if (others.some((rs) => rs !== replicaSet && prefixOf(rs) === prefix)) return undefined;
  const pods = new Set(
    slices
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service)
      .flatMap((s) => s.endpoints ?? [])
      .filter((e) => e.conditions?.ready !== false && e.conditions?.terminating !== true && e.targetRef?.kind === "Pod")
      .map((e) => e.targetRef?.name ?? "")
      .filter((pod) => pod.length === prefix.length + GENERATED_SUFFIX && pod.startsWith(prefix)),
  );
  return pods.size;
}

/** apps/v1 ControllerRevision, as StatefulSets and DaemonSets keep their history: here `data` is one
 * revision's pod template. */
export interface ControllerRevisionObject extends KubeObject {
  metadata: Meta;
  data?: unknown;
  revision: number;
}

export type RolloutObject = KubeObject & { metadata: Meta; spec: unknown; status?: unknown };
export type AnalysisRunObject = KubeObject & { metadata: Meta; spec: AnalysisRunSpec; status?: AnalysisRunStatus };

export const controllerOf = (o: { metadata: Meta }) => o.metadata.ownerReferences?.find((r) => r.controller);

export function observeReplicaSet(rs: ReplicaSetObject): ObservedReplicaSet {
  const scaleDownAt = rs.metadata.annotations?.[SCALE_DOWN_AT_ANNOTATION];
  return {
    name: rs.metadata.name,
    hash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "",
    revision: Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0,
    replicas: rs.spec.replicas ?? 0,
    current: rs.status?.replicas ?? 0,
    ready: rs.status?.readyReplicas ?? 0,
    available: rs.status?.availableReplicas ?? 0,
    ...(scaleDownAt ? { scaleDownAt } : {}),
  };
}

const ROLES: readonly AnalysisRole[] = ["step", "background", "prePromotion", "postPromotion"];

export function observeAnalysisRun(run: AnalysisRunObject): ObservedAnalysisRun | undefined {
  const labels = run.metadata.labels ?? {};
  const role = ROLES.find((r) => r === labels[ANALYSIS_ROLE_LABEL]);
  if (!role) return undefined;
  const step = labels[STEP_INDEX_LABEL];
  return {
    name: run.metadata.name,
    role,
    hash: labels[POD_TEMPLATE_HASH_LABEL] ?? "",
    ...(step !== undefined ? { stepIndex: Number(step) } : {}),
    ...(run.status?.phase ? { phase: run.status.phase } : {}),
    ...(run.status?.message ? { message: run.status.message } : {}),
    terminated: run.spec.terminate === true,
  };
}

/** Whether `labels` satisfy a label selector (matchLabels and matchExpressions). */
export function selectorMatches(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] },
  labels: Record<string, string>,
): boolean {
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = e.key in labels;
      const value = labels[e.key] ?? "";
      if (e.operator === "In") return has && (e.values ?? []).includes(value);
      if (e.operator === "NotIn") return !has || !(e.values ?? []).includes(value);
      if (e.operator === "Exists") return has;
      return !has;
    })
  );
}

/** The ReplicaSet for one revision: the template with the hash label, selected by it too. */
export function replicaSetFor(
  rollout: RolloutObject,
  template: PodTemplate,
  selector: ReplicaSetObject["spec"]["selector"],
  hash: string,
  revision: number,
  replicas: number,
  minReadySeconds: number,
): ReplicaSetObject {
  const labels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `${rollout.metadata.name}-${hash}`,
      namespace: rollout.metadata.namespace,
      labels,
      annotations: { [REVISION_ANNOTATION]: String(revision) },
      ownerReferences: [ownerReference(rollout)],
    },
    spec: {
      replicas,
      minReadySeconds,
      selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } },
      template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
    },
  };
}

/** Whether a ReplicaSet is a baseline, not a revision: no history, undo or adoption counts it. */
export const isBaseline = (rs: { metadata: Meta }): boolean => rs.metadata.labels?.[ROLE_LABEL] === BASELINE_ROLE;

/** The baseline ReplicaSet: `template` (the stable revision's) labelled with the baseline's hash and
 * role, and no revision annotation. */
export function baselineReplicaSetFor(
  rollout: RolloutObject,
  template: PodTemplate,
  selector: ReplicaSetObject["spec"]["selector"],
  hash: string,
  replicas: number,
  minReadySeconds: number,
): ReplicaSetObject {
  const labelled = {
    ...template,
    metadata: { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [ROLE_LABEL]: BASELINE_ROLE } },
  };
  const rs = replicaSetFor(rollout, labelled, selector, hash, 0, replicas, minReadySeconds);
  return { ...rs, metadata: { ...rs.metadata, annotations: {} } };
}

/** The ControllerRevision that keeps one revision's pod template (`<rollout>-<hash>`, like its ReplicaSet). */
export function revisionFor(
  rollout: RolloutObject,
  template: PodTemplate,
  hash: string,
  revision: number,
): ControllerRevisionObject {
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: `${rollout.metadata.name}-${hash}`,
      namespace: rollout.metadata.namespace,
      labels: { [ROLLOUT_LABEL]: rollout.metadata.name, [POD_TEMPLATE_HASH_LABEL]: hash },
      ownerReferences: [ownerReference(rollout)],
    },
    data: template,
    revision,
  };
}

/** A saved template as the planner sees it; anyone who may write ControllerRevisions in the namespace
 * may have changed it, so its data must still be a pod template that the Rollout's selector matches. */
export function observeRevision(cr: ControllerRevisionObject, selector: Parameters<typeof selectorMatches>[0]): ObservedRevision {
  const seen = {
    name: cr.metadata.name,
    hash: cr.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "",
    revision: Number(cr.revision) || 0,
  };
  const template = podTemplate.safeParse(cr.data);
  if (!template.success) {
    const issue = template.error.issues[0];
    return { ...seen, problem: `is not a pod template (data.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"})` };
  }
  if (!selectorMatches(selector, template.data.metadata?.labels ?? {}))
    return { ...seen, problem: "has labels the Rollout's selector does not match" };
  return seen;
}

/** A revision's template as saved, without the hash label a ReplicaSet's copy carries. */
export function templateToSave(template: PodTemplate): PodTemplate {
  const copy = structuredClone(template);
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return copy;
}
