// What the Rollout commands share: connecting, changing one Rollout (src/rollout/live.ts) and
// saying what changed, printing objects.
import { type Command, Option } from "commander";
import { API_VERSION } from "../api/group.ts";
import type { KubeObject } from "../kube/client.ts";
import { changeRollout, type Target } from "../rollout/live.ts";
import type { LiveRollout, RolloutChange } from "../rollout/operations.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, kubeOptions, namespaceOf } from "./kube-options.ts";

export function connect(flags: KubeFlags): Target {
  const client = kubeClient(flags, { fieldManager: "ramp-cli" }, DEFAULT_REQUEST_TIMEOUT);
  return { client, namespace: namespaceOf(flags, client) };
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
