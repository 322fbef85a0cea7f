// A throwaway Kubernetes cluster on loopback, from real binaries: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok faking the nodes. Its state (pids, ports, paths)
// lives in one folder, so `ramp dev down` from another process stops exactly what `up` started.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { KubeClient } from "../kube/client.ts";
import { packagePath } from "../package-root.ts";
import { KWOK_STAGES } from "./kwok-stages.ts";
import { makePki, type Pki } from "./pki.ts";
import { freePort, isAlive, type Started, startProcess, stopProcess, waitFor } from "./processes.ts";

const run = promisify(execFile);

export const cacheRoot = () =>
  process.env.RAMP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ramp");
export const clusterDir = (name: string) => join(cacheRoot(), "dev", name);

export interface ClusterState {
  name: string;
  dir: string;
  kubeconfig: string;
  apiserverUrl: string;
  ports: Record<string, number>;
  processes: Started[];
  logDir: string;
}

export const NO_GO_HINT =
  "Only the local dev cluster needs Go: Ramp's controller and CLI work against any existing cluster without it.";

/** Runs test/cluster/build.sh with `args`; returns the lines it printed (the last: a folder or a binary). */
async function runBuildScript(args: string[], what: string): Promise<string[]> {
  try {
    const { stdout } = await run("bash", [packagePath("test/cluster/build.sh"), ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim().split("\n");
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    if (e.code === 2) throw new Error(`${(e.stderr ?? "Go is missing or too old").trim()}\n${NO_GO_HINT}`);
    throw new Error(`building ${what} failed:\n${e.stderr}`);
  }
}

const lastLine = async (lines: Promise<string[]>) => (await lines).at(-1) as string;

/** Builds (or finds in the cache) the pinned binaries; returns their folder. */
export async function ensureBinaries(log: (line: string) => void = () => {}): Promise<string> {
  const dir = await lastLine(runBuildScript(["--print-dir"], "the binaries"));
  const names = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok"];
  if (names.every((n) => existsSync(join(dir, n)))) return dir;
  log(`building Kubernetes binaries into ${dir} (first time only; several minutes)`);
  await runBuildScript([], "the binaries");
  return dir;
}

/** A pinned tool build.sh builds from the Go module proxy on first use (helm for the chart, kstatus
 * for the GitOps health test); returns the path of its cached binary. */
export const goTool = (name: "helm" | "kstatus"): Promise<string> => lastLine(runBuildScript([name], name));

/** The upstream routing CRD files, fetched from the Go module proxy the first time and read from
 * the cache (offline) after. */
export const ensureRoutingCrdFiles = (): Promise<string[]> => runBuildScript(["crds"], "the routing CRDs");

function kubeconfigYaml(server: string, pki: Pki): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "ramp-dev", cluster: { server, "certificate-authority": pki.caCert } }],
    users: [{ name: "admin", user: { "client-certificate": pki.adminCert, "client-key": pki.adminKey } }],
    contexts: [{ name: "ramp-dev", context: { cluster: "ramp-dev", user: "admin" } }],
    "current-context": "ramp-dev",
  });
}

export function readState(name: string): ClusterState | undefined {
  const file = join(clusterDir(name), "state.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterState) : undefined;
}

const saveState = (state: ClusterState) => writeFileSync(join(state.dir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);

export interface UpOptions {
  name?: string;
  log?: (line: string) => void;
}

/** Starts the control plane and waits until the apiserver is ready. Nodes, CRDs and Prometheus are
 * layered on by the caller (see dev/up.ts). */
export async function startControlPlane(opts: UpOptions = {}): Promise<ClusterState> {
  const name = opts.name ?? "default";
  const log = opts.log ?? (() => {});
  const existing = readState(name);
  if (existing?.processes.some((p) => isAlive(p.pid)))
    throw new Error(`dev cluster "${name}" is already up; run \`ramp dev down\` first`);
  const bin = await ensureBinaries(log);
  const dir = clusterDir(name);
  rmSync(dir, { recursive: true, force: true });
  const logDir = join(dir, "logs");
  for (const d of ["pki", "etcd", "logs", "cm"]) mkdirSync(join(dir, d), { recursive: true });
  const pki = await makePki(join(dir, "pki"));
  const ports = { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort(), kwok: await freePort() };
  const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(apiserverUrl, pki));
  const state: ClusterState = { name, dir, kubeconfig, apiserverUrl, ports, processes: [], logDir };
  const start = (proc: string, args: string[]) => {
    state.processes.push(startProcess(proc, join(bin, proc), args, logDir));
    saveState(state);
  };
  const hint = `logs in ${logDir}`;
  try {
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    start("etcd", [
      "--name=ramp-dev",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=ramp-dev=${peerUrl}`,
      "--unsafe-no-fsync", // a throwaway cluster: durability costs seconds for nothing
      "--quota-backend-bytes=4294967296",
    ]);
    await waitFor("etcd", async () => (await fetch(`${etcdUrl}/health`)).ok, 20_000, hint);
    start("kube-apiserver", [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.adminCert}`,
      `--tls-private-key-file=${pki.adminKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-key-file=${pki.adminKey}`,
      `--service-account-signing-key-file=${pki.adminKey}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--service-cluster-ip-range=10.96.0.0/16",
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=true",
      // Fresh namespaces have no default ServiceAccount for a moment, and pods here never use one;
      // kwok's nodes have no node-lifecycle controller to lift the not-ready taint.
      "--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
      "--endpoint-reconciler-type=none",
    ]);
    const kube = new KubeClient({ kubeconfig });
    await waitFor("kube-apiserver /readyz", async () => Boolean(await kube.request("GET", "/readyz")), 60_000, hint);
    // Flags the controller-manager and the scheduler share: a client of this cluster, no serving
    // port, one instance, and room for test bursts.
    const clientFlags = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      "--secure-port=0",
      "--leader-elect=false",
      "--kube-api-qps=500",
      "--kube-api-burst=1000",
    ];
    start("kube-controller-manager", [
      ...clientFlags,
      "--controllers=replicaset-controller,deployment-controller,job-controller,garbage-collector-controller,endpoints-controller,endpointslice-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller",
      `--service-account-private-key-file=${pki.adminKey}`,
      `--root-ca-file=${pki.caCert}`,
      "--concurrent-replicaset-syncs=10",
      "--concurrent-deployment-syncs=10",
      // As large clusters run it: a pod joins its Services' EndpointSlices up to a second after it
      // is Ready, so a router that moves traffic on a ReplicaSet's count alone sends requests to a
      // Service with no ready endpoint, and test/routers.test.ts sees them.
      "--endpointslice-updates-batch-period=1s",
      `--cert-dir=${join(dir, "cm")}`,
    ]);
    start("kube-scheduler", clientFlags);
    const stages = join(dir, "kwok-stages.yaml");
    writeFileSync(stages, KWOK_STAGES);
    start("kwok", [
      `--kubeconfig=${kubeconfig}`,
      `--config=${stages}`,
      "--manage-all-nodes=true",
      `--server-address=127.0.0.1:${ports.kwok}`,
    ]);
    return state;
  } catch (err) {
    await stopCluster(state);
    throw err;
  }
}

/** Stops every process the cluster started, newest first, and removes its folder. */
export async function stopCluster(state: ClusterState, keepFiles = false): Promise<void> {
  for (const p of [...state.processes].reverse()) await stopProcess(p.pid);
  if (!keepFiles) rmSync(state.dir, { recursive: true, force: true });
}
