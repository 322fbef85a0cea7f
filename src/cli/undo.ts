// `ramp undo ROLLOUT [--to-revision N]`
import type { Command } from "commander";
import { replicaSets } from "../rollout/live.ts";
import { undo } from "../rollout/operations.ts";
import type { KubeFlags } from "./kube-options.ts";
import { changeCommand } from "./rollouts.ts";

const revision = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--to-revision: expected a revision number, got "${v}"`);
  return n;
};

export function registerUndo(program: Command): void {
  changeCommand<KubeFlags & { toRevision?: number }>(
    program,
    "undo <rollout>",
    "go back to an earlier revision's pod template (default: the newest other than the current one)",
    async (r, { target, flags }) => undo(r, await replicaSets(target), flags.toRevision),
  ).option("--to-revision <n>", "the revision to go back to (ramp.dev/revision of its ReplicaSet)", revision);
}
