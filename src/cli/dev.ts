// `ramp dev up|down|env`: a throwaway local cluster for tests and the demo.
import type { Command } from "commander";
import { Simulator } from "../dev/simulator/simulator.ts";
import { devDown, devEnv, devState, devUp } from "../dev/up.ts";

export function registerDev(program: Command): void {
  const dev = program
    .command("dev")
    .description("a throwaway local cluster: real kube-apiserver, kwok nodes, Prometheus (needs Go the first time)");
  const name = ["--name <name>", "cluster name, for several side by side", "default"] as const;
  dev
    .command("up")
    .description("start the cluster and print how to use it")
    .option(...name)
    .option("--nodes <n>", "fake nodes", (v) => Number.parseInt(v, 10), 3)
    .action(async (opts: { name: string; nodes: number }) => {
      const started = Date.now();
      const state = await devUp({ name: opts.name, nodes: opts.nodes, log: (l) => console.error(`ramp dev: ${l}`) });
      console.error(
        `ramp dev: cluster "${opts.name}" up in ${((Date.now() - started) / 1000).toFixed(1)}s; logs in ${state.logDir}`,
      );
      process.stdout.write(devEnv(state));
    });
  dev
    .command("env")
    .description("print export lines for KUBECONFIG and RAMP_PROMETHEUS_URL")
    .option(...name)
    .action((opts: { name: string }) => {
      const state = devState(opts.name);
      if (!state) {
        console.error(`ramp dev: cluster "${opts.name}" is not running; start it with \`ramp dev up\``);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(devEnv(state));
    });
  dev
    .command("down")
    .description("stop every process the cluster started and remove its files")
    .option(...name)
    .action(async (opts: { name: string }) => {
      console.error(
        (await devDown(opts.name)) ? `ramp dev: cluster "${opts.name}" stopped` : `ramp dev: no cluster "${opts.name}"`,
      );
    });
  dev
    .command("simulate")
    .description("send simulated traffic through the cluster's routes and export its metrics (ramp dev up starts it)")
    .requiredOption("--kubeconfig <path>", "cluster to watch")
    .requiredOption("--port <port>", "port for /metrics and /stats on 127.0.0.1", (v) => Number.parseInt(v, 10))
    .option("--rate <rps>", "requests per second per host", (v) => Number.parseFloat(v), 100)
    .option(
      "--header-share <share>",
      "share of requests per header route that carry its headers",
      (v) => Number.parseFloat(v),
      0.1,
    )
    .action(async (opts: { kubeconfig: string; port: number; rate: number; headerShare: number }) => {
      const sim = new Simulator({ kubeconfig: opts.kubeconfig, port: opts.port, rate: opts.rate, headerShare: opts.headerShare });
      await sim.start();
      console.error(`ramp dev: simulator on http://127.0.0.1:${opts.port}/metrics`);
      const stop = () => void sim.stop().then(() => process.exit(0));
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    });
}
