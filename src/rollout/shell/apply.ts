// The apply step: every action the planner decided, made against the apiserver in order, each write
// remembered in its cache so the next reconcile sees it before the watch does. The switch is
// exhaustive: an action added to the planner does not compile until it is executed here.
import { type AnalysisTemplate, analysisTemplateSpec } from "../../api/analysis.ts";
import { API_VERSION } from "../../api/group.ts";
import { baselineHash, POD_TEMPLATE_HASH_LABEL } from "../../api/pod-template-hash.ts";
import { EventReason } from "../../api/reasons.ts";
import { podTemplate } from "../../api/rollout.ts";
import { isAlreadyExists, isNotFound, KubeError } from "../../kube/client.ts";
import { objectKey } from "../../kube/informer.ts";
import { analysisRunFor, type FoundTemplate } from "../analysis-runs.ts";
import {
  type AnalysisRunObject,
  baselineReplicaSetFor,
  isBaseline,
  type PodTemplate,
  type ReplicaSetObject,
  type RolloutObject,
  replicaSetFor,
  revisionFor,
  SCALE_DOWN_AT_ANNOTATION,
  templateToSave,
} from "../objects.ts";
import type { Action, Observed, RolloutAnalysis } from "../plan/types.ts";
import { BY_OWNER, SpecProblem, type StepContext } from "./context.ts";
import { findTemplate } from "./observe.ts";
import { recordEvents, warnings } from "./status.ts";

/** What an action needs besides itself: the Rollout as read, what was observed, and this revision's template. */
export interface ApplyInput {
  rollout: RolloutObject;
  observed: Observed;
  template: PodTemplate | undefined;
}

/** The actions in the planner's order, which matters (a new ReplicaSet is scaled up before an old one
 * down); revision history is only issued here, and written in the background, as nothing depends on it. */
export async function applyActions(ctx: StepContext, input: ApplyInput, actions: Action[]): Promise<void> {
  for (const action of actions) await applyAction(ctx, input, action);
}

export async function applyAction(ctx: StepContext, input: ApplyInput, action: Action): Promise<void> {
  const { rollout, observed, template } = input;
  const { namespace, name } = rollout.metadata;
  const { client, caches } = ctx;
  const spec = observed.spec;
  switch (action.type) {
    case "createReplicaSet": {
      const source = action.fromRevision ? savedTemplate(ctx, namespace, action.fromRevision) : template;
      if (!source) return;
      const { hash, revision, replicas } = action;
      return createReplicaSet(ctx, replicaSetFor(rollout, source, spec.selector, hash, revision, replicas, spec.minReadySeconds));
    }
    case "createBaselineReplicaSet": {
      // The stable revision's template, from its ReplicaSet or else its saved copy.
      const source =
        ownedReplicaSet(ctx, rollout, action.fromHash)?.spec.template ??
        savedTemplate(ctx, namespace, `${name}-${action.fromHash}`);
      if (!source) return;
      const { hash, replicas } = action;
      return createReplicaSet(ctx, baselineReplicaSetFor(rollout, source, spec.selector, hash, replicas, spec.minReadySeconds));
    }
    case "scaleReplicaSet":
      caches.replicaSets.remember(
        await client.patch("apps/v1", "ReplicaSet", action.name, namespace, { spec: { replicas: action.replicas } }),
      );
      return;
    case "setScaleDownAt":
      caches.replicaSets.remember(
        await client.patch("apps/v1", "ReplicaSet", action.name, namespace, {
          metadata: { annotations: { [SCALE_DOWN_AT_ANNOTATION]: action.at } },
        }),
      );
      return;
    case "deleteReplicaSet":
      await client.delete("apps/v1", "ReplicaSet", action.name, namespace);
      return;
    case "saveRevision":
      return keepHistory(ctx, rollout, `${name}-${action.hash}`, `save the template of revision ${action.hash}`, async () => {
        const source =
          action.hash === observed.templateHash ? template : ownedReplicaSet(ctx, rollout, action.hash)?.spec.template;
        if (!source) return;
        try {
          caches.revisions.remember(
            await ctx.historyClient.create(revisionFor(rollout, templateToSave(source), action.hash, action.revision)),
          );
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
      });
    case "deleteRevision":
      return keepHistory(ctx, rollout, action.name, `delete the old ControllerRevision ${action.name}`, () =>
        ctx.historyClient.delete("apps/v1", "ControllerRevision", action.name, namespace),
      );
    case "setServiceSelector":
      try {
        caches.services.remember(
          await client.patch("v1", "Service", action.service, namespace, {
            spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: action.hash } },
          }),
        );
      } catch (err) {
        if (isNotFound(err)) throw new SpecProblem(`Service "${action.service}" not found`);
        throw err;
      }
      return;
    case "createAnalysisRun":
      return createAnalysisRun(ctx, input, action);
    case "terminateAnalysisRun":
      caches.analysisRuns.remember(
        await client.patch(API_VERSION, "AnalysisRun", action.name, namespace, { spec: { terminate: true } }),
      );
      return;
    case "scaleDeployment":
      if (!spec.workloadRef) return;
      caches.deployments.remember(
        await client.patch("apps/v1", "Deployment", spec.workloadRef.name, namespace, { spec: { replicas: action.replicas } }),
      );
      return;
    case "deletePod":
      await client.delete("v1", "Pod", action.name, namespace);
      return;
    case "callGate": // made once the status that marks it Pending is written (gates.ts)
    case "event": // recorded once the status is written (status.ts)
      return;
    default: {
      const unknown: never = action;
      throw new Error(`no executor for action ${JSON.stringify(unknown)}`);
    }
  }
}

/** Creates a ReplicaSet (one made already is fine); one the apiserver refuses is a spec problem. */
async function createReplicaSet(ctx: StepContext, rs: ReplicaSetObject): Promise<void> {
  try {
    ctx.caches.replicaSets.remember(await ctx.client.create(rs));
  } catch (err) {
    if (isAlreadyExists(err)) return;
    if (err instanceof KubeError && (err.status === 422 || err.status === 400)) {
      const replicaSet = rs.metadata.name;
      const message = `ReplicaSet "${replicaSet}" is invalid: ${err.message}`;
      const podTemplateHash = rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? "";
      // A baseline's refusal is not its revision's: the revision is not held for it.
      throw new SpecProblem(message, isBaseline(rs) ? undefined : { podTemplateHash, replicaSet, message });
    }
    throw err;
  }
}

/** The template a ControllerRevision of the Rollout holds, when it is still a pod template. */
function savedTemplate(ctx: StepContext, namespace: string, name: string): PodTemplate | undefined {
  const parsed = podTemplate.safeParse(ctx.caches.revisions.get(`${namespace}/${name}`)?.data);
  return parsed.success ? (parsed.data as PodTemplate) : undefined;
}

function ownedReplicaSet(ctx: StepContext, rollout: RolloutObject, hash: string): ReplicaSetObject | undefined {
  return ctx.caches.replicaSets
    .byIndex(BY_OWNER, rollout.metadata.uid ?? "")
    .find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash);
}

/** Revision history is a safety net, never a reason to hold a rollout up: its write of the
 * ControllerRevision `revision` goes in the background (ctx.history, awaited as the controller
 * stops), and one that fails is logged and recorded as a Warning Event, and tried again on the next
 * reconcile. */
function keepHistory(
  ctx: StepContext,
  rollout: RolloutObject,
  revision: string,
  what: string,
  write: () => Promise<unknown>,
): void {
  ctx.history.issue(`${rollout.metadata.namespace}/${revision}`, async () => {
    try {
      await write();
    } catch (err) {
      const message = `could not ${what}: ${(err as Error).message}`;
      ctx.log(`rollout ${objectKey(rollout)}: ${message}`);
      recordEvents(ctx, rollout, warnings([{ reason: EventReason.RevisionHistoryFailed, message }]));
    }
  });
}

async function createAnalysisRun(
  ctx: StepContext,
  { rollout, observed }: ApplyInput,
  action: Extract<Action, { type: "createAnalysisRun" }>,
): Promise<void> {
  const templates: FoundTemplate[] = [];
  for (const ref of action.analysis.templates) {
    const found = await findTemplate(ctx, rollout.metadata.namespace, ref.templateName, ref.clusterScope);
    const kind = ref.clusterScope ? "ClusterAnalysisTemplate" : "AnalysisTemplate";
    if (!found) throw new SpecProblem(`${kind} "${ref.templateName}" not found`);
    const spec = analysisTemplateSpec.safeParse(found.spec);
    if (!spec.success) throw new SpecProblem(`${kind} "${ref.templateName}" is invalid: ${spec.error.issues[0]?.message}`);
    templates.push({ name: ref.templateName, kind, spec: spec.data as AnalysisTemplate["spec"] });
  }
  let run: AnalysisRunObject;
  try {
    run = analysisRunFor({
      name: action.name,
      rollout,
      role: action.role,
      hash: action.hash,
      ...(action.stepIndex !== undefined ? { stepIndex: action.stepIndex } : {}),
      analysis: action.analysis as RolloutAnalysis,
      templates,
      hashes: {
        stable: observed.status.stableRS ?? observed.templateHash,
        latest: observed.templateHash,
        ...(observed.spec.strategy.canary?.baseline?.enabled ? { baseline: baselineHash(observed.templateHash) } : {}),
      },
    });
  } catch (err) {
    throw new SpecProblem((err as Error).message);
  }
  try {
    ctx.caches.analysisRuns.remember(await ctx.client.create(run));
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
