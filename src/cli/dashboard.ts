// `ramp dashboard [--port 3100]`: a web UI on 127.0.0.1 with the user's kubeconfig, as the other
// commands use it. Its watches push every change to the open pages; its buttons do what `ramp
// promote|abort|...` do, as the same identity (so RBAC decides, and a refusal is shown as it came).
import type { Command } from "commander";
import { loadAssets } from "../dashboard/assets.ts";
import { startDashboard } from "../dashboard/server.ts";
import { ClusterWatches } from "../dashboard/watches.ts";
import { DEFAULT_REQUEST_TIMEOUT, type KubeFlags, kubeClient, kubeOptions } from "./kube-options.ts";

export const DEFAULT_DASHBOARD_PORT = 3100;

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: expected a port number (0: any free one), got "${v}"`);
  return n;
};

export function registerDashboard(program: Command): void {
  kubeOptions(
    program
      .command("dashboard")
      .description("a web UI on 127.0.0.1: rollouts live, their steps, weights, analysis and events, with the actions"),
    "show only this namespace's rollouts (default: every namespace's)",
  )
    .option("--port <port>", "port on 127.0.0.1 (0: any free one)", port, DEFAULT_DASHBOARD_PORT)
    .action(async (flags: KubeFlags & { port: number }) => {
      const client = kubeClient(flags, { fieldManager: "ramp-dashboard" }, DEFAULT_REQUEST_TIMEOUT);
      const assets = await loadAssets();
      const watches = new ClusterWatches(client, flags.namespace);
      watches.start();
      const dashboard = await startDashboard({ port: flags.port, watches, assets, client });
      console.log(`ramp dashboard: serving on ${dashboard.url} (Ctrl-C stops it)`);
      await new Promise<void>((resolve) => {
        for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
      });
      watches.stop();
      await dashboard.close();
    });
}
