// kubeconfig files as kubectl reads them, to what one client needs: the server, its TLS material and
// the credential. Pure (text in, data out) so the rules are table-tested; reading files and running
// exec plugins is credentials.ts. Ours rather than @kubernetes/client-node's KubeConfig because that
// one module pulls in all of client-node (2.7 MB evaluated on every CLI command) for this much code.
import { isAbsolute, join } from "node:path";
import { load } from "js-yaml";

/** The kubeconfig cannot give a cluster to talk to (no file, an unknown context). */
export class KubeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeConfigError";
  }
}

// With no kubeconfig and no pod around it, client-go would try http://localhost:8080; kubectl
// refuses instead, and so do we.
export const NO_CONFIGURATION =
  "invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable";

/** PEM bytes given inline (…-data, base64 in the file) or a file to read. */
export type Material = { data: Buffer } | { file: string };

/** A client-go credential plugin (users[].user.exec). */
export interface ExecPlugin {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  installHint?: string;
  /** Sent to the plugin in KUBERNETES_EXEC_INFO when provideClusterInfo is set. */
  cluster?: Record<string, unknown>;
}

export type Credential =
  | { kind: "none" }
  | { kind: "token"; token: string }
  /** Re-read when the file changes: projected ServiceAccount tokens rotate. */
  | { kind: "tokenFile"; file: string }
  | { kind: "basic"; username: string; password: string }
  | { kind: "exec"; plugin: ExecPlugin };

/** Everything a client needs to reach one cluster as one user. */
export interface ClusterAccess {
  server: string;
  /** The context's namespace. */
  namespace?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  ca?: Material;
  clientCert?: Material;
  clientKey?: Material;
  credential: Credential;
  impersonate?: { user: string; groups?: string[] };
}

type Entry = Record<string, unknown>;

/** One kubeconfig, or several merged: entries by name, and the current context. */
export interface Kubeconfig {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext?: string;
}

const isObject = (v: unknown): v is Entry => typeof v === "object" && v !== null && !Array.isArray(v);

function field<T extends "string" | "boolean">(entry: Entry, key: string, type: T, where: string) {
  const value = entry[key];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== type) throw new Error(`${where}.${key}: expected a ${type}, got ${JSON.stringify(value)}`);
  return value as T extends "string" ? string : boolean;
}

// The fields that name files; relative ones are relative to the kubeconfig that holds them (as
// client-go's ResolveLocalPaths).
const CLUSTER_FILES = ["certificate-authority"];
const USER_FILES = ["client-certificate", "client-key", "tokenFile"];

function entries(doc: Entry, list: string, inner: string, dir: string, files: string[]): Map<string, Entry> {
  const items = doc[list] ?? [];
  if (!Array.isArray(items)) throw new Error(`${list}: expected a list`);
  const found = new Map<string, Entry>();
  items.forEach((item: unknown, i) => {
    const where = `${list}[${i}]`;
    if (!isObject(item)) throw new Error(`${where}: expected a mapping`);
    const name = field(item, "name", "string", where);
    if (!name) throw new Error(`${where}.name is missing`);
    const body = item[inner] ?? {};
    if (!isObject(body)) throw new Error(`${where}.${inner}: expected a mapping`);
    const resolved: Entry = { ...body };
    for (const key of files) {
      const path = field(body, key, "string", `${where}.${inner}`);
      if (path) resolved[key] = isAbsolute(path) ? path : join(dir, path);
    }
    const exec = body.exec;
    if (isObject(exec) && typeof exec.command === "string" && exec.command.includes("/") && !isAbsolute(exec.command)) {
      resolved.exec = { ...exec, command: join(dir, exec.command) };
    }
    // The first of a name wins, within a file as across files (kubectl's merge rule).
    if (!found.has(name)) found.set(name, resolved);
  });
  return found;
}

/** One kubeconfig file's text; `dir` is its folder. Throws an Error naming the bad field. */
export function parseKubeconfig(text: string, dir: string): Kubeconfig {
  const doc = (load(text) ?? {}) as unknown;
  if (!isObject(doc)) throw new Error("expected a mapping at the top level");
  const currentContext = field(doc, "current-context", "string", "");
  return {
    clusters: entries(doc, "clusters", "cluster", dir, CLUSTER_FILES),
    users: entries(doc, "users", "user", dir, USER_FILES),
    contexts: entries(doc, "contexts", "context", dir, []),
    ...(currentContext ? { currentContext } : {}),
  };
}

/** KUBECONFIG's files merged as kubectl merges them: the first file to set a name or the current context wins. */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const merged: Kubeconfig = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const config of configs) {
    for (const key of ["clusters", "users", "contexts"] as const) {
      for (const [name, entry] of config[key]) if (!merged[key].has(name)) merged[key].set(name, entry);
    }
    if (merged.currentContext === undefined && config.currentContext) merged.currentContext = config.currentContext;
  }
  return merged;
}

/** A kubeconfig of one cluster and no credentials (--server with no kubeconfig, KUBERNETES_MASTER). */
export const serverOnly = (server: string): Kubeconfig => ({
  clusters: new Map([["cluster", { server }]]),
  users: new Map(),
  contexts: new Map([["cluster", { cluster: "cluster" }]]),
  currentContext: "cluster",
});

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's ServiceAccount (as client-go's InClusterConfig): the token file re-read as it rotates. */
export function inClusterKubeconfig(env: Readonly<Record<string, string | undefined>>, namespace?: string): Kubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    clusters: new Map([["in-cluster", { server, "certificate-authority": `${SERVICE_ACCOUNT_DIR}/ca.crt` }]]),
    users: new Map([["in-cluster", { tokenFile: `${SERVICE_ACCOUNT_DIR}/token` }]]),
    contexts: new Map([["in-cluster", { cluster: "in-cluster", user: "in-cluster", namespace: namespace?.trim() }]]),
    currentContext: "in-cluster",
  };
}

function material(entry: Entry, fileKey: string, dataKey: string, where: string): Material | undefined {
  const file = field(entry, fileKey, "string", where);
  if (file) return { file };
  const data = field(entry, dataKey, "string", where);
  return data ? { data: Buffer.from(data, "base64") } : undefined;
}

function execPlugin(exec: unknown, cluster: Entry, server: string, where: string): ExecPlugin {
  if (!isObject(exec)) throw new Error(`${where}: expected a mapping`);
  const command = field(exec, "command", "string", where);
  if (!command) throw new Error(`${where}.command is missing`);
  const args = exec.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string"))
    throw new Error(`${where}.args: expected a list of strings`);
  const env = exec.env ?? [];
  if (!Array.isArray(env) || !env.every((e) => isObject(e) && typeof e.name === "string" && typeof e.value === "string")) {
    throw new Error(`${where}.env: expected a list of {name, value} strings`);
  }
  const installHint = field(exec, "installHint", "string", where);
  return {
    apiVersion: field(exec, "apiVersion", "string", where) ?? "client.authentication.k8s.io/v1",
    command,
    args,
    env: env as ExecPlugin["env"],
    ...(installHint ? { installHint } : {}),
    ...(exec.provideClusterInfo === true
      ? {
          cluster: {
            server,
            ...(cluster["certificate-authority-data"]
              ? { "certificate-authority-data": cluster["certificate-authority-data"] }
              : {}),
            ...(cluster["insecure-skip-tls-verify"] ? { "insecure-skip-tls-verify": true } : {}),
            ...(cluster["tls-server-name"] ? { "tls-server-name": cluster["tls-server-name"] } : {}),
          },
        }
      : {}),
  };
}

function credential(user: Entry, cluster: Entry, server: string, where: string): Credential {
  const token = field(user, "token", "string", where);
  if (token) return { kind: "token", token };
  const tokenFile = field(user, "tokenFile", "string", where);
  if (tokenFile) return { kind: "tokenFile", file: tokenFile };
  const username = field(user, "username", "string", where);
  if (username) return { kind: "basic", username, password: field(user, "password", "string", where) ?? "" };
  if (user.exec !== undefined && user.exec !== null)
    return { kind: "exec", plugin: execPlugin(user.exec, cluster, server, `${where}.exec`) };
  const provider = user["auth-provider"];
  if (isObject(provider)) {
    const config = isObject(provider.config) ? provider.config : {};
    // kubectl keeps only oidc; its id-token is a bearer token (refreshing it is the plugin's job).
    if (provider.name === "oidc" && typeof config["id-token"] === "string") return { kind: "token", token: config["id-token"] };
    throw new Error(
      `${where}.auth-provider: the ${String(provider.name)} auth provider is not supported (kubectl removed it in v1.26); use an exec credential plugin`,
    );
  }
  return { kind: "none" };
}

/** What the command line puts over the kubeconfig (kubectl's --context, --server, --token, --insecure-skip-tls-verify). */
export interface AccessOverrides {
  context?: string | undefined;
  server?: string | undefined;
  token?: string | undefined;
  insecureSkipTlsVerify?: boolean | undefined;
}

/** The current (or --context's) cluster and user, with the flags applied. kubectl's words when there is none. */
export function clusterAccess(config: Kubeconfig, overrides: AccessOverrides = {}): ClusterAccess {
  const name = overrides.context ?? config.currentContext;
  if (overrides.context && !config.contexts.has(overrides.context))
    throw new KubeConfigError(`context "${overrides.context}" does not exist`);
  const context = name === undefined ? undefined : config.contexts.get(name);
  if (!context) throw new KubeConfigError(config.contexts.size && name ? `context "${name}" does not exist` : NO_CONFIGURATION);
  const where = `context "${name}"`;
  try {
    const clusterName = field(context, "cluster", "string", where);
    const cluster = clusterName === undefined ? undefined : config.clusters.get(clusterName);
    if (!cluster) throw new Error(`cluster "${clusterName ?? ""}" does not exist`);
    const userName = field(context, "user", "string", where);
    const user = (userName === undefined ? undefined : config.users.get(userName)) ?? {};
    const clusterWhere = `cluster "${clusterName}"`;
    const userWhere = `user "${userName ?? ""}"`;
    const server = (overrides.server ?? field(cluster, "server", "string", clusterWhere))?.replace(/\/$/, "");
    if (!server) throw new Error(`${clusterWhere} has no server`);
    const insecure =
      overrides.insecureSkipTlsVerify === true || field(cluster, "insecure-skip-tls-verify", "boolean", clusterWhere) === true;
    const ca = insecure ? undefined : material(cluster, "certificate-authority", "certificate-authority-data", clusterWhere);
    const tlsServerName = field(cluster, "tls-server-name", "string", clusterWhere);
    const namespace = field(context, "namespace", "string", where);
    // --token replaces the user's credentials, client certificate included.
    const clientCert = overrides.token ? undefined : material(user, "client-certificate", "client-certificate-data", userWhere);
    const clientKey = overrides.token ? undefined : material(user, "client-key", "client-key-data", userWhere);
    const as = field(user, "as", "string", userWhere);
    const groups = user["as-groups"];
    if (groups !== undefined && (!Array.isArray(groups) || !groups.every((g) => typeof g === "string"))) {
      throw new Error(`${userWhere}.as-groups: expected a list of strings`);
    }
    return {
      server,
      ...(namespace ? { namespace } : {}),
      insecureSkipTlsVerify: insecure,
      ...(tlsServerName ? { tlsServerName } : {}),
      ...(ca ? { ca } : {}),
      ...(clientCert ? { clientCert } : {}),
      ...(clientKey ? { clientKey } : {}),
      credential: overrides.token ? { kind: "token", token: overrides.token } : credential(user, cluster, server, userWhere),
      ...(as ? { impersonate: { user: as, ...(groups?.length ? { groups: groups as string[] } : {}) } } : {}),
    };
  } catch (err) {
    if (err instanceof KubeConfigError) throw err;
    throw new KubeConfigError(`invalid configuration: ${(err as Error).message}`);
  }
}

/** What a credential plugin answered (its ExecCredential's status). */
export interface ExecAnswer {
  token?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  /** Milliseconds since the epoch; absent: good until the apiserver refuses it. */
  expiresAt?: number;
}

/** The environment variable a plugin reads its request from (client-go's KUBERNETES_EXEC_INFO). */
export const execInfo = (plugin: ExecPlugin): string =>
  JSON.stringify({
    apiVersion: plugin.apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false, ...(plugin.cluster ? { cluster: plugin.cluster } : {}) },
  });

/** A plugin's stdout, checked as client-go checks it. */
export function parseExecCredential(stdout: string, plugin: ExecPlugin): ExecAnswer {
  const where = `exec plugin ${plugin.command}`;
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new KubeConfigError(`getting credentials: ${where}: its output is not JSON`);
  }
  if (!isObject(doc) || doc.kind !== "ExecCredential" || doc.apiVersion !== plugin.apiVersion) {
    throw new KubeConfigError(`getting credentials: ${where}: expected an ExecCredential of ${plugin.apiVersion}`);
  }
  const status = isObject(doc.status) ? doc.status : {};
  const text = (key: string) => (typeof status[key] === "string" && status[key] !== "" ? (status[key] as string) : undefined);
  const token = text("token");
  const cert = text("clientCertificateData");
  const key = text("clientKeyData");
  if (!token && !(cert && key)) {
    throw new KubeConfigError(
      `getting credentials: ${where}: status has neither a token nor clientCertificateData and clientKeyData`,
    );
  }
  const expires = text("expirationTimestamp");
  const expiresAt = expires ? Date.parse(expires) : undefined;
  return {
    ...(token ? { token } : {}),
    ...(cert && key ? { clientCert: Buffer.from(cert), clientKey: Buffer.from(key) } : {}),
    ...(expiresAt !== undefined && Number.isFinite(expiresAt) ? { expiresAt } : {}),
  };
}
