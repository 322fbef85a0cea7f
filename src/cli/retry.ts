// `ramp retry ROLLOUT`
import type { Command } from "commander";
import { retry } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerRetry(program: Command): void {
  changeCommand(program, "retry <rollout>", "start an aborted update again from its first step", retry);
}
