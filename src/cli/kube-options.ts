// The options every command that talks to a cluster takes, and the client they make.
import type { Command } from "commander";
import { KubeClient, type KubeClientOptions } from "../kube/client.ts";

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export function kubeOptions(
  command: Command,
  namespaceHelp = "namespace (default: the kubeconfig context's, else default)",
): Command {
  return command
    .option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG or ~/.kube/config, else in-cluster)")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", namespaceHelp);
}

export function kubeClient(flags: KubeFlags, opts: Omit<KubeClientOptions, "kubeconfig" | "context"> = {}): KubeClient {
  return new KubeClient({
    ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    ...(flags.context ? { context: flags.context } : {}),
    ...opts,
  });
}

/** --namespace, else the namespace of the kubeconfig's current context, else "default" (as kubectl). */
export function namespaceOf(flags: KubeFlags, client: KubeClient): string {
  const config = client.config;
  return flags.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
}
