// `ramp restart ROLLOUT`
import type { Command } from "commander";
import { restart } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerRestart(program: Command): void {
  changeCommand(program, "restart <rollout>", "replace every pod, a few at a time (spec.restartAt)", () => restart(new Date()));
}
