// `ramp list [-A] [-w]` (also `ramp get rollouts`): one line per Rollout; with -w the table again on
// each change, redrawn in place on a terminal.
import type { Command } from "commander";
import { listRollouts, replicaSets } from "../rollout/live.ts";
import { rolloutView } from "../rollout/view.ts";
import { type KubeFlags, kubeOptions } from "./kube-options.ts";
import { liveTerminal, watchList } from "./live-watch.ts";
import { renderList } from "./render.ts";
import { connect, type Format, formatObject, tableOptions } from "./rollouts.ts";

export interface ListFlags extends KubeFlags {
  allNamespaces?: boolean;
  output?: Format;
  headers?: boolean;
  watch?: boolean;
}

export const RESOURCE = "rollout.ramp.dev";

export function registerList(program: Command): void {
  tableOptions(kubeOptions(program.command("list").description("list Rollouts: strategy, phase, step, weight, ready pods, age")))
    .option("-A, --all-namespaces", "Rollouts of every namespace")
    .option("-w, --watch", "print the table again on each change (redrawn in place on a terminal)")
    .action(printList);
}

export async function printList(flags: ListFlags): Promise<void> {
  const target = connect(flags);
  const all = flags.allNamespaces === true;
  const format = { allNamespaces: all, wide: flags.output === "wide", headers: flags.headers !== false };
  if (flags.watch) {
    if (flags.output === "json" || flags.output === "yaml" || flags.output === "name")
      throw new Error(`-w prints the table: -o ${flags.output} is not watched`);
    return watchList(target, format, liveTerminal());
  }
  const rollouts = await listRollouts(target, all);
  if (flags.output === "json" || flags.output === "yaml") {
    console.log(await formatObject(rollouts, flags.output, "RolloutList"));
    return;
  }
  if (!rollouts.length) {
    console.error(all ? "No resources found" : `No resources found in ${target.namespace} namespace.`);
    return;
  }
  if (flags.output === "name") {
    console.log(rollouts.map((r) => `${RESOURCE}/${r.metadata.name}`).join("\n"));
    return;
  }
  const owned = await replicaSets(target, all);
  const views = rollouts.map((r) => rolloutView(r, owned, []));
  console.log(renderList(views, format, new Date()));
}
