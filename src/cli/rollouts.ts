// What the Rollout commands share: reading Rollouts and what they own, writing changes with
// optimistic concurrency, printing objects, and errors a person can act on.
import { type Command, Option } from "commander";
import { stringify } from "yaml";
import { API_VERSION } from "../api/kinds.ts";
import { isConflict, isNotFound, type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { type AnalysisRunObject, POD_TEMPLATE_HASH_LABEL, type ReplicaSetObject, ROLLOUT_LABEL } from "../rollout/objects.ts";
import type { LiveRollout, RolloutChange } from "../rollout/operations.ts";
import { type KubeFlags, kubeClient, kubeOptions, namespaceOf } from "./kube-options.ts";

export interface Target {
  client: KubeClient;
  namespace: string;
}

export function connect(flags: KubeFlags): Target {
  const client = kubeClient(flags, { fieldManager: "ramp-cli" });
  return { client, namespace: namespaceOf(flags, client) };
}

/** Runs one API call; a refusal says what was refused, and a missing CRD says so. */
async function call<T>(target: Target, verb: string, resource: string, fn: () => Promise<T>, all = false): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof KubeError)) throw err;
    const where = all ? "in any namespace" : `in namespace "${target.namespace}"`;
    if (err.status === 403) throw new Error(`not allowed to ${verb} ${resource} ${where}: ${err.message}`);
    if (err.message.startsWith("the server does not serve")) throw new Error(`${err.message}: are Ramp's CRDs installed?`);
    throw err;
  }
}

export async function readRollout(target: Target, name: string): Promise<LiveRollout> {
  try {
    return await call(target, "get", "rollouts", () =>
      target.client.get<LiveRollout>(API_VERSION, "Rollout", name, target.namespace),
    );
  } catch (err) {
    if (isNotFound(err)) throw new Error(`rollout "${name}" not found in namespace "${target.namespace}"`);
    throw err;
  }
}

export const listRollouts = (target: Target, all: boolean) =>
  call(
    target,
    "list",
    "rollouts",
    () => target.client.list<LiveRollout>(API_VERSION, "Rollout", all ? undefined : target.namespace),
    all,
  );

/** Ramp's ReplicaSets in the namespace (all namespaces: `all`); the views pick each Rollout's own. */
export const replicaSets = (target: Target, all = false) =>
  call(
    target,
    "list",
    "replicasets",
    () =>
      target.client.list<ReplicaSetObject>("apps/v1", "ReplicaSet", all ? undefined : target.namespace, POD_TEMPLATE_HASH_LABEL),
    all,
  );

export const analysisRuns = (target: Target, rollout: string) =>
  call(target, "list", "analysisruns", () =>
    target.client.list<AnalysisRunObject>(API_VERSION, "AnalysisRun", target.namespace, `${ROLLOUT_LABEL}=${rollout}`),
  );

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
        rollout = await call(target, "patch", part === "status" ? "rollouts/status" : "rollouts", () =>
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

/** A command `NAME <rollout> ...` that changes one Rollout and says what it did. */
export function changeCommand<F extends KubeFlags>(
  parent: Command,
  usage: string,
  description: string,
  op: (r: LiveRollout, context: { target: Target; args: string[]; flags: F }) => RolloutChange | Promise<RolloutChange>,
): Command {
  return kubeOptions(parent.command(usage).description(description)).action(async (name: string, ...rest: unknown[]) => {
    // commander passes the positional arguments, then the options, then the command.
    const flags = rest.at(-2) as F;
    const args = rest.slice(0, -2).flat() as string[];
    const target = connect(flags);
    const summary = await changeRollout(target, name, (r) => op(r, { target, args, flags }));
    console.log(`rollout "${name}" ${summary}`);
  });
}

export type Format = "json" | "yaml";

export const outputOption = () => new Option("-o, --output <format>", "print the object(s) instead").choices(["json", "yaml"]);

// As kubectl, without metadata.managedFields: bookkeeping of the apiserver's, long and rarely wanted.
const bare = ({ metadata: { managedFields: _, ...metadata }, ...rest }: KubeObject): KubeObject => ({ ...rest, metadata });

/** One object, or a list of them (`kind` names the list). */
export function formatObject(obj: KubeObject | KubeObject[], format: Format, kind = "List"): string {
  const out = Array.isArray(obj) ? { apiVersion: API_VERSION, kind, items: obj.map(bare) } : bare(obj);
  return format === "json" ? JSON.stringify(out, null, 2) : stringify(out).trimEnd();
}
