// `ramp set image ROLLOUT CONTAINER=IMAGE...`
import type { Command } from "commander";
import { setImages } from "../rollout/operations.ts";
import { changeCommand } from "./rollouts.ts";

export function registerSetImage(program: Command): void {
  const set = program.command("set").description("change a Rollout's pod template");
  changeCommand(set, "image <rollout> <container=image...>", "set container images", (r, { args }) => setImages(r, args));
}
