// Everything the planner needs, read from the caches; a Service or template the cache has not seen
// yet is read from the apiserver before the spec is called invalid (a Rollout applied right after its
// Services must not be told they are missing).
import { API_VERSION } from "../../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from "../../api/pod-template-hash.ts";
import type { RolloutSpec, RolloutStatus } from "../../api/rollout.ts";
import { isNotFound, type KubeObject } from "../../kube/client.ts";
import { type Informer, objectKey } from "../../kube/informer.ts";
import type { TrafficRouter } from "../../traffic/router.ts";
import {
  controllerOf,
  type EndpointSliceObject,
  isBaseline,
  observeAnalysisRun,
  observeReplicaSet,
  observeRevision,
  type PodObject,
  type PodTemplate,
  type RolloutObject,
  readyEndpointsOf,
} from "../objects.ts";
import { heldRefusal } from "../plan/rollout.ts";
import type { Observed } from "../plan/types.ts";
import { ownedOrAdoptable } from "./adopt.ts";
import {
  BY_OWNER,
  SpecProblem,
  type StepContext,
  serviceNames,
  type Template,
  type TrafficProblem,
  templateRefs,
} from "./context.ts";
import { observeTraffic, type TrafficObservation } from "./routing.ts";

export interface Observation {
  observed: Observed;
  /** The pod template of this revision (the Rollout's own, or its workloadRef's). */
  template: PodTemplate | undefined;
  /** The router could not be asked for its verdict: reported after the scaling (see sync). */
  trafficFailure?: TrafficProblem;
}

export async function observe(
  ctx: StepContext,
  rollout: RolloutObject,
  spec: RolloutSpec,
  now: Date,
  router?: TrafficRouter,
): Promise<Observation> {
  const { namespace, name, uid = "" } = rollout.metadata;
  const { caches } = ctx;
  const status = (rollout.status ?? {}) as RolloutStatus;
  const problems: string[] = [];

  let template = (rollout.spec as { template?: PodTemplate }).template;
  let deployment: Observed["deployment"];
  if (spec.workloadRef) {
    const dep = caches.deployments.get(`${namespace}/${spec.workloadRef.name}`);
    if (!dep) problems.push(`Deployment "${spec.workloadRef.name}" (workloadRef) not found`);
    else {
      template = dep.spec.template;
      deployment = { replicas: dep.spec.replicas ?? 1, available: dep.status?.availableReplicas ?? 0 };
    }
  }
  const templateHash = template ? podTemplateHash(template) : (status.currentPodHash ?? "");

  const ownedOrAdopted = ownedOrAdoptable(ctx, rollout);
  const owned = ownedOrAdopted.filter((rs) => !isBaseline(rs));
  const baselines = ownedOrAdopted.filter(isBaseline).map(observeReplicaSet);
  const services: Record<string, string | null> = {};
  for (const svc of serviceNames(spec)) {
    const found = await cachedOrRead(ctx, caches.services, "v1", "Service", svc, namespace);
    if (!found) problems.push(`Service "${svc}" not found`);
    else services[svc] = found.spec?.selector?.[POD_TEMPLATE_HASH_LABEL] ?? null;
  }
  const canaryService = spec.strategy.canary?.canaryService;
  const newRS = owned.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === templateHash);
  const canaryEndpoints =
    router && canaryService && newRS && status.stableRS !== templateHash
      ? readyEndpointsOf(
          await ctx
            .routerObjects(objectKey(rollout))
            .list<EndpointSliceObject>("discovery.k8s.io/v1", "EndpointSlice", namespace),
          canaryService,
          newRS.metadata.name,
          owned.map((rs) => rs.metadata.name),
        )
      : undefined;
  for (const ref of templateRefs(spec)) {
    if (!(await findTemplate(ctx, namespace, ref.templateName, ref.clusterScope))) {
      problems.push(`${ref.clusterScope ? "ClusterAnalysisTemplate" : "AnalysisTemplate"} "${ref.templateName}" not found`);
    }
  }
  // A template the apiserver refused stays refused until the spec changes.
  const refusedTemplate = heldRefusal(status, rollout.metadata.generation ?? 0, templateHash);
  if (refusedTemplate) problems.push(refusedTemplate.message);

  const analysisRuns = caches.analysisRuns.byIndex(BY_OWNER, uid).flatMap((r) => observeAnalysisRun(r) ?? []);
  const restart = await restartState(
    ctx,
    rollout,
    spec,
    owned.map((rs) => rs.metadata.name),
  );
  let traffic: TrafficObservation = {};
  try {
    traffic = await observeTraffic(router);
  } catch (err) {
    if (!(err instanceof SpecProblem)) throw err;
    problems.push(err.message);
  }
  const observed: Observed = {
    name,
    generation: rollout.metadata.generation ?? 0,
    status,
    now,
    spec,
    templateHash,
    replicaSets: owned.map(observeReplicaSet).filter((r) => r.hash),
    ...(baselines.length ? { baselines } : {}),
    revisions: caches.revisions
      .byIndex(BY_OWNER, uid)
      .map((cr) => observeRevision(cr, spec.selector))
      .filter((r) => r.hash),
    analysisRuns,
    services,
    ...(deployment ? { deployment } : {}),
    ...(traffic.verified !== undefined ? { trafficVerified: traffic.verified } : {}),
    ...(canaryEndpoints !== undefined ? { canaryEndpoints } : {}),
    ...(restart ? { restart } : {}),
    ...(problems.length ? { invalidSpec: problems.join("; ") } : {}),
    ...(refusedTemplate ? { refusedTemplate } : {}),
  };
  return { observed, template, ...(traffic.failure ? { trafficFailure: traffic.failure } : {}) };
}

/** An AnalysisTemplate (or ClusterAnalysisTemplate) by reference, from the cache or else the apiserver. */
export function findTemplate(
  ctx: StepContext,
  namespace: string,
  name: string,
  clusterScope?: boolean,
): Promise<Template | undefined> {
  return clusterScope
    ? cachedOrRead(ctx, ctx.caches.clusterTemplates, API_VERSION, "ClusterAnalysisTemplate", name)
    : cachedOrRead(ctx, ctx.caches.templates, API_VERSION, "AnalysisTemplate", name, namespace);
}

/** The cached object, or else one GET (its watch event may not have arrived yet); what is found is
 * remembered in the cache, so the next reconcile does not ask again. */
async function cachedOrRead<T extends KubeObject>(
  ctx: StepContext,
  cache: Informer<T>,
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
): Promise<T | undefined> {
  const cached = cache.get(namespace ? `${namespace}/${name}` : name);
  if (cached) return cached;
  try {
    const found = await ctx.client.get<T>(apiVersion, kind, name, namespace);
    cache.remember(found);
    return found;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The pods created before spec.restartAt, listed only while a restart is due. */
async function restartState(
  ctx: StepContext,
  rollout: RolloutObject,
  spec: RolloutSpec,
  owned: string[],
): Promise<Observed["restart"]> {
  const at = spec.restartAt;
  const status = (rollout.status ?? {}) as RolloutStatus;
  if (!at || status.restartedAt === at) return undefined;
  const selector = Object.entries(spec.selector.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const pods = (await ctx.client.list<PodObject>("v1", "Pod", rollout.metadata.namespace, selector)).filter((p) =>
    owned.includes(controllerOf(p)?.name ?? ""),
  );
  const due = pods.filter((p) => !p.metadata.deletionTimestamp && (p.metadata.creationTimestamp ?? "") < at);
  return {
    pods: due.map((p) => ({ name: p.metadata.name, replicaSet: controllerOf(p)?.name ?? "" })),
    terminating: pods.filter((p) => p.metadata.deletionTimestamp).length,
  };
}
