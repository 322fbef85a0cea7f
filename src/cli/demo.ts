// `ramp demo`: Ramp's main job on the embedded default — a local cluster, a good and a bad version.
import type { Command } from "commander";
import { durationFlag } from "../api/duration.ts";
import { runDemo } from "../dev/demo.ts";

export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description("on a throwaway local cluster: a good version walked through its steps, a bad one rolled back by analysis")
    .option("--keep", "leave the cluster running and print how to reach it")
    .option("--cluster-name <name>", "name of the local cluster", "demo")
    .option("--stage-timeout <duration>", "how long each stage may take", "3m")
    .action(async (flags: { keep?: boolean; clusterName: string; stageTimeout: string }) => {
      const ok = await runDemo({
        keep: flags.keep === true,
        clusterName: flags.clusterName,
        stageTimeoutMs: durationFlag("--stage-timeout", flags.stageTimeout),
        print: (line) => console.log(line),
      });
      process.exitCode = ok ? 0 : 1;
    });
}
