// `ramp dev up|down|env`: the control plane plus what Ramp's tests and demo need on it — fake nodes,
// Ramp's CRDs and the routers' upstream CRDs, and Prometheus scraping the simulator and the controller.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubeClient, type KubeObject } from "../kube/client.ts";
import { packagePath as repo } from "../package-root.ts";
import { ensureDebianPackages } from "./apt.ts";
import { type ClusterState, ensureRoutingCrdFiles, readState, startControlPlane, stopCluster } from "./cluster.ts";
import { freePort, isAlive, startProcess, waitFor } from "./processes.ts";
import { routingCrds } from "./routing-crds.ts";

export interface DevCluster extends ClusterState {
  prometheusUrl: string;
  /** The traffic simulator: /metrics, /stats and POST /stats/reset. */
  simulatorUrl: string;
}

export interface DevUpOptions {
  name?: string;
  nodes?: number;
  log?: (line: string) => void;
}

const yamlObjects = (file: string): KubeObject[] =>
  parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);

/** Ramp's CRDs and the routers' upstream ones. */
export const crdObjects = async (): Promise<KubeObject[]> => [
  ...readdirSync(repo("crds")).flatMap((f) => yamlObjects(join(repo("crds"), f))),
  ...routingCrds((await ensureRoutingCrdFiles()).flatMap(yamlObjects)),
];

type WithConditions = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
const isTrue = (o: WithConditions, type: string) =>
  o.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

function fakeNode(i: number): KubeObject {
  const name = `kwok-node-${i}`;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake" },
      labels: { type: "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" },
    },
  };
}

/** Debian's Prometheus, installed with apt when missing; no service is started by the install. */
export async function ensurePrometheus(log: (line: string) => void): Promise<string> {
  const binary = "/usr/bin/prometheus";
  await ensureDebianPackages([binary], ["prometheus"], log);
  return binary;
}

/** The Prometheus scrape config: every second, the simulator and the controller when they run. */
export function prometheusConfig(targets: { job: string; address: string }[]): string {
  const jobs = targets.map((t) => `  - job_name: ${t.job}\n    static_configs:\n    - targets: ["${t.address}"]`).join("\n");
  return `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs}\n`;
}

export async function devUp(opts: DevUpOptions = {}): Promise<DevCluster> {
  const log = opts.log ?? (() => {});
  const prometheus = await ensurePrometheus(log);
  const crds = await crdObjects();
  const state = await startControlPlane({ ...(opts.name ? { name: opts.name } : {}), log });
  try {
    const kube = new KubeClient({ kubeconfig: state.kubeconfig, fieldManager: "ramp-dev" });
    // One at a time: the upstream CRDs are large and their CEL rules are compiled on write; all at
    // once on a loaded machine ran past the apiserver's request timeout.
    for (const crd of crds) await kube.apply(crd, { force: true });
    await Promise.all(Array.from({ length: opts.nodes ?? 3 }, (_, i) => kube.apply(fakeNode(i), { force: true })));
    await waitFor(
      "CRDs Established and nodes Ready",
      async () => {
        const served = await kube.list<WithConditions>("apiextensions.k8s.io/v1", "CustomResourceDefinition");
        const established = served.every((c) => isTrue(c, "Established"));
        const ready = (await kube.list<WithConditions>("v1", "Node")).filter((n) => isTrue(n, "Ready"));
        return established && served.length >= crds.length && ready.length === (opts.nodes ?? 3);
      },
      60_000,
      `logs in ${state.logDir}`,
    );
    const ports = {
      ...state.ports,
      prometheus: await freePort(),
      simulator: await freePort(),
      controllerMetrics: await freePort(),
    };
    const promDir = join(state.dir, "prometheus");
    mkdirSync(promDir, { recursive: true });
    writeFileSync(
      join(promDir, "prometheus.yml"),
      prometheusConfig([
        { job: "ramp-simulator", address: `127.0.0.1:${ports.simulator}` },
        { job: "ramp-controller", address: `127.0.0.1:${ports.controllerMetrics}` },
      ]),
    );
    const prometheusUrl = `http://127.0.0.1:${ports.prometheus}`;
    state.processes.push(
      startProcess(
        "prometheus",
        prometheus,
        [
          `--config.file=${join(promDir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(promDir, "data")}`,
          `--web.listen-address=127.0.0.1:${ports.prometheus}`,
          "--storage.tsdb.retention.time=1d",
        ],
        state.logDir,
      ),
    );
    state.processes.push(
      startProcess(
        "simulator",
        process.execPath,
        [repo("src/cli/main.ts"), "dev", "simulate", `--kubeconfig=${state.kubeconfig}`, `--port=${ports.simulator}`],
        state.logDir,
      ),
    );
    const dev: DevCluster = { ...state, ports, prometheusUrl, simulatorUrl: `http://127.0.0.1:${ports.simulator}` };
    writeFileSync(join(state.dir, "state.json"), `${JSON.stringify(dev, null, 2)}\n`);
    const hint = `logs in ${state.logDir}`;
    await waitFor("Prometheus ready", async () => (await fetch(`${prometheusUrl}/-/ready`)).ok, 30_000, hint);
    await waitFor("the simulator", async () => (await fetch(`${dev.simulatorUrl}/metrics`)).ok, 30_000, hint);
    return dev;
  } catch (err) {
    await stopCluster(readState(state.name) ?? state, true);
    throw err;
  }
}

export function devState(name = "default"): DevCluster | undefined {
  const state = readState(name) as DevCluster | undefined;
  return state?.processes.some((p) => isAlive(p.pid)) ? state : undefined;
}

export async function devDown(name = "default"): Promise<boolean> {
  const state = readState(name);
  if (!state) return false;
  await stopCluster(state);
  return true;
}

export const devEnv = (state: DevCluster): string =>
  `export KUBECONFIG=${state.kubeconfig}\nexport RAMP_PROMETHEUS_URL=${state.prometheusUrl}\n`;
