// Reading Rollouts and what they own from the apiserver, and writing changes with optimistic
// concurrency: what the CLI and the dashboard share, with errors a person can act on.
import { API_VERSION } from "../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { isConflict, isNotFound, type KubeClient, KubeError } from "../kube/client.ts";
import { type AnalysisRunObject, type ReplicaSetObject, ROLLOUT_LABEL } from "./objects.ts";
import type { LiveRollout, RolloutChange } from "./operations.ts";

export interface Target {
  client: KubeClient;
  namespace: string;
}

/** Runs one API call; a missing CRD says so. The apiserver's other refusals (Forbidden: who may
 * not do what, where) are clear as they are. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KubeError && err.message.startsWith("the server does not serve")) {
      throw new Error(`${err.message}: are Ramp's CRDs installed?`);
    }
    throw err;
  }
}

/** kubectl's words for a Rollout that is not there. */
export const rolloutNotFound = (target: Target, name: string) =>
  new KubeError(404, "NotFound", `rollouts.ramp.dev "${name}" not found in namespace "${target.namespace}"`);

export async function readRollout(target: Target, name: string): Promise<LiveRollout> {
  try {
    return await call(() => target.client.get<LiveRollout>(API_VERSION, "Rollout", name, target.namespace));
  } catch (err) {
    if (isNotFound(err)) throw rolloutNotFound(target, name);
    throw err;
  }
}

export const listRollouts = (target: Target, all: boolean) =>
  call(() => target.client.list<LiveRollout>(API_VERSION, "Rollout", all ? undefined : target.namespace));

/** Ramp's ReplicaSets in the namespace (all namespaces: `all`); the views pick each Rollout's own. */
export const replicaSets = (target: Target, all = false) =>
  call(() =>
    target.client.list<ReplicaSetObject>("apps/v1", "ReplicaSet", all ? undefined : target.namespace, POD_TEMPLATE_HASH_LABEL),
  );

export const analysisRuns = (target: Target, rollout: string) =>
  call(() => target.client.list<AnalysisRunObject>(API_VERSION, "AnalysisRun", target.namespace, `${ROLLOUT_LABEL}=${rollout}`));

// The first try and three more after conflicts.
const ATTEMPTS = 4;

/** Writes what `op` makes of the Rollout: status first (the subresource), then spec, each a merge
 * patch guarded by the resourceVersion it was computed from. On a conflict `op` runs again on a
 * fresh read. Returns the summary of the change. */
export async function changeRollout(
  target: Target,
  name: string,
  op: (r: LiveRollout) => RolloutChange | Promise<RolloutChange>,
): Promise<string> {
  let rollout = await readRollout(target, name);
  let change = await op(rollout);
  let summary = change.summary;
  for (const part of ["status", "spec"] as const) {
    for (let attempt = 1; change[part]; attempt++) {
      const patch = { metadata: { resourceVersion: rollout.metadata.resourceVersion }, [part]: change[part] };
      try {
        rollout = await call(() =>
          target.client.patch<LiveRollout>(API_VERSION, "Rollout", name, target.namespace, patch, {
            ...(part === "status" ? { subresource: "status" } : {}),
          }),
        );
        break;
      } catch (err) {
        if (!isConflict(err)) throw err;
        if (attempt === ATTEMPTS) {
          throw new Error(
            `rollout "${name}" in namespace "${target.namespace}" kept changing while its ${part} was written (${ATTEMPTS} conflicts); try again`,
          );
        }
        rollout = await readRollout(target, name);
        change = await op(rollout);
        // The status that gets written is the recomputed one: so is the summary.
        if (part === "status") summary = change.summary;
      }
    }
  }
  return summary;
}
