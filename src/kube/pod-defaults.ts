// Where the controller finds its cluster and its Lease when nobody says: a pure decision over flags,
// environment and file contents, so the shell only reads files and the rules are tested as a table.

/** Where a client's configuration comes from. */
export type ConfigSource =
  | { kind: "file"; path: string }
  /** KUBECONFIG (possibly several files) or ~/.kube/config, read as kubectl reads them. */
  | { kind: "default" }
  /** The pod's ServiceAccount token and CA, and the apiserver's address from KUBERNETES_SERVICE_HOST/PORT. */
  | { kind: "in-cluster" }
  | { kind: "none" };

export interface ConfigInputs {
  kubeconfigFlag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  homeKubeconfigExists: boolean;
}

export function configSource({ kubeconfigFlag, env, homeKubeconfigExists }: ConfigInputs): ConfigSource {
  if (kubeconfigFlag) return { kind: "file", path: kubeconfigFlag };
  if (env.KUBECONFIG || homeKubeconfigExists) return { kind: "default" };
  if (env.KUBERNETES_SERVICE_HOST) return { kind: "in-cluster" };
  return { kind: "none" };
}

export const SERVICE_ACCOUNT_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export interface LeaseNamespaceInputs {
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** The contents of SERVICE_ACCOUNT_NAMESPACE_FILE, absent outside a pod. */
  serviceAccountNamespace?: string | undefined;
}

/** The flag, then POD_NAMESPACE (the downward API), RAMP_NAMESPACE (older set-ups), the pod's own
 * namespace, and `default` outside a cluster. */
export function leaseNamespace({ flag, env, serviceAccountNamespace }: LeaseNamespaceInputs): string {
  const candidates = [flag, env.POD_NAMESPACE, env.RAMP_NAMESPACE, serviceAccountNamespace?.trim()];
  return candidates.find((c) => c !== undefined && c !== "") ?? "default";
}
