// `ramp list [-A]`: one line per Rollout.
import type { Command } from "commander";
import { type KubeFlags, kubeOptions } from "./kube-options.ts";
import { renderList, rolloutView } from "./render.ts";
import { connect, type Format, formatObject, listRollouts, outputOption, replicaSets } from "./rollouts.ts";

interface ListFlags extends KubeFlags {
  allNamespaces?: boolean;
  output?: Format;
}

export function registerList(program: Command): void {
  kubeOptions(program.command("list").description("list Rollouts: strategy, phase, step, weight, ready pods, age"))
    .option("-A, --all-namespaces", "Rollouts of every namespace")
    .addOption(outputOption())
    .action(async (flags: ListFlags) => {
      const target = connect(flags);
      const all = flags.allNamespaces === true;
      const rollouts = await listRollouts(target, all);
      if (flags.output) {
        console.log(formatObject(rollouts, flags.output, "RolloutList"));
        return;
      }
      if (!rollouts.length) {
        console.error(all ? "no Rollouts found" : `no Rollouts found in namespace "${target.namespace}"`);
        return;
      }
      const owned = await replicaSets(target, all);
      const views = rollouts.map((r) => rolloutView(r, owned, []));
      console.log(renderList(views, all, new Date()));
    });
}
