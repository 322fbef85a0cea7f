// `ramp abort ROLLOUT`
import type { Command } from "commander";
import { abort } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerAbort(program: Command): void {
  changeCommand(program, "abort <rollout>", "stop the update: traffic and pods go back to the stable revision", abort);
}
