// `ramp promote ROLLOUT [--full]`: move past the pause or analysis holding a rollout.
import type { Command } from "commander";
import { promote } from "../rollout/operations.ts";
import type { KubeFlags } from "./kube-options.ts";
import { changeCommand } from "./rollouts.ts";

export function registerPromote(program: Command): void {
  changeCommand<KubeFlags & { full?: boolean }>(
    program,
    "promote <rollout>",
    "canary: go past the current pause or analysis step (or skip the current step); blue-green: switch to the new revision",
    (r, { flags }) => promote(r, flags.full),
  ).option("--full", "skip all remaining steps and analysis: go to the new revision at once");
}
