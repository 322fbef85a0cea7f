// `ramp resume ROLLOUT`
import type { Command } from "commander";
import { resume } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerResume(program: Command): void {
  changeCommand(program, "resume <rollout>", "undo `ramp pause` (pauses of the steps need `ramp promote`)", resume);
}
