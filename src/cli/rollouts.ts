// What the Rollout commands share: reading Rollouts and what they own, writing changes with
// optimistic concurrency, printing objects, and errors a person can act on.
import { type Command, Option } from "commander";
import { API_VERSION } from "../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import { isConflict, isNotFound, type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { type AnalysisRunObject, type ReplicaSetObject, ROLLOUT_LABEL } from "../rollout/objects.ts";
import type { LiveRollout, RolloutChange } from "../rollout/operations.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, kubeOptions, namespaceOf } from "./kube-options.ts";

export interface Target {
  client: KubeClient;
  namespace: string;
}

export function connect(flags: KubeFlags): Target {
  const client = kubeClient(flags, { fieldManager: "ramp-cli" }, DEFAULT_REQUEST_TIMEOUT);
  return { client, namespace: namespaceOf(flags, client) };
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

/** -o: a whole object (json, yaml) or a table format (wide, name). */
export type Format = "json" | "yaml" | "wide" | "name";

export const outputOption = () =>
  new Option("-o, --output <format>", "json or yaml: the object(s); wide: more columns; name: rollout.ramp.dev/NAME").choices([
    "json",
    "yaml",
    "wide",
    "name",
  ]);

/** The table options every command that prints Rollouts takes. */
export function tableOptions(command: Command): Command {
  return command.addOption(outputOption()).option("--no-headers", "print table rows without the header line");
}

// As kubectl, without metadata.managedFields: bookkeeping of the apiserver's, long and rarely wanted.
const bare = ({ metadata: { managedFields: _, ...metadata }, ...rest }: KubeObject): KubeObject => ({ ...rest, metadata });

/** One object, or a list of them (`kind` names the list). The YAML printer loads only for -o yaml
 * (as a CommonJS module, its functions are on the default export). */
export async function formatObject(obj: KubeObject | KubeObject[], format: "json" | "yaml", kind = "List"): Promise<string> {
  const out = Array.isArray(obj) ? { apiVersion: API_VERSION, kind, items: obj.map(bare) } : bare(obj);
  return format === "json" ? JSON.stringify(out, null, 2) : (await import("yaml")).default.stringify(out).trimEnd();
}
