// `ramp pause ROLLOUT`
import type { Command } from "commander";
import { pause } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerPause(program: Command): void {
  changeCommand(program, "pause <rollout>", "stop progressing (spec.paused) until `ramp resume`", pause);
}
