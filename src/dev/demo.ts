// `ramp demo`: the story a newcomer can follow. On the local dev cluster (real apiserver, kwok pods,
// Prometheus scraping the traffic simulator) a Rollout behind a Gateway API HTTPRoute takes a good
// version through its weighted steps with analysis passing, then a bad one (its pods fail 30% of
// requests) that analysis catches and rolls back by itself. It ends with a summary and timings.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { RolloutStatus } from "../api/rollout.ts";
import { KubeClient, type KubeObject } from "../kube/client.ts";
import { EventRecorder } from "../kube/events.ts";
import { OutboundDoor, outboundPolicy } from "../net/outbound.ts";
import { backgroundClientOptions, controllerSet } from "../runtime/controllers.ts";
import { type DevCluster, devDown, devUp } from "./up.ts";

export interface DemoOptions {
  /** Leave the cluster running at the end. */
  keep: boolean;
  clusterName: string;
  /** Each stage must end within this long, or the demo fails. */
  stageTimeoutMs: number;
  print: (line: string) => void;
}

type Rollout = KubeObject & { metadata: { generation?: number }; status?: RolloutStatus };
type Run = KubeObject & {
  status?: { phase?: string; metricResults?: { measurements?: { phase: string; value?: string; finishedAt?: string }[] }[] };
};

const API = "ramp.dev/v1alpha1";
const APP = "shop";

const template = (image: string, errorRate: string) => ({
  metadata: { labels: { app: APP } },
  spec: { containers: [{ name: APP, image, env: [{ name: "SIM_ERROR_RATE", value: errorRate }] }] },
});

function objects(ns: string): KubeObject[] {
  const service = (name: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: { selector: { app: APP }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  return [
    service(`${APP}-stable`),
    service(`${APP}-canary`),
    {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: APP, namespace: ns },
      spec: {
        hostnames: ["shop.demo.local"],
        rules: [
          {
            backendRefs: [
              { name: `${APP}-stable`, port: 80, weight: 100 },
              { name: `${APP}-canary`, port: 80, weight: 0 },
            ],
          },
        ],
      },
    },
    {
      apiVersion: API,
      kind: "AnalysisTemplate",
      metadata: { name: "error-rate", namespace: ns },
      spec: {
        metrics: [
          {
            name: "error-rate",
            initialDelay: "10s",
            interval: "5s",
            count: 3,
            inconclusiveLimit: 1,
            provider: {
              slo: {
                source: "http",
                service: `${APP}-canary`,
                namespace: ns,
                window: "15s",
                minRequests: 20,
                errorRate: { max: 0.05 },
              },
            },
          },
        ],
      },
    },
    {
      apiVersion: API,
      kind: "Rollout",
      metadata: { name: APP, namespace: ns },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: APP } },
        template: template(`${APP}:1`, "0"),
        strategy: {
          canary: {
            stableService: `${APP}-stable`,
            canaryService: `${APP}-canary`,
            trafficRouting: { gatewayAPI: { httpRoute: APP } },
            scaleDownDelaySeconds: 2,
            abortScaleDownDelaySeconds: 2,
            steps: [
              { setWeight: 25 },
              { analysis: { templates: [{ templateName: "error-rate" }] } },
              { setWeight: 75 },
              { pause: { duration: "5s" } },
            ],
          },
        },
      },
    },
  ];
}

/** Share of the simulator's requests to the HTTPRoute that reached the canary Service since the last call. */
async function canaryShare(cluster: DevCluster, ns: string): Promise<number | undefined> {
  const res = await fetch(`${cluster.simulatorUrl}/stats`);
  const body = (await res.json()) as { stats: Record<string, Record<string, { requests: number }>> };
  const counts = body.stats[`HTTPRoute/${ns}/${APP}`] ?? {};
  await fetch(`${cluster.simulatorUrl}/stats/reset`, { method: "POST" });
  const total = Object.values(counts).reduce((sum, c) => sum + c.requests, 0);
  return total ? (counts[`${APP}-canary`]?.requests ?? 0) / total : undefined;
}

export async function runDemo(opts: DemoOptions): Promise<boolean> {
  const { print } = opts;
  const started = Date.now();
  const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  const say = (line: string) => print(`${clock()}  ${line}`);

  say("starting a local cluster: kube-apiserver, etcd, scheduler, controller-manager, kwok nodes, Prometheus, traffic simulator");
  const cluster = await devUp({ name: opts.clusterName, log: (l) => say(`  ${l}`) });
  const clientOptions = { kubeconfig: cluster.kubeconfig, fieldManager: "ramp-demo" };
  const client = new KubeClient(clientOptions);
  const ns = `demo-${randomBytes(3).toString("hex")}`;
  const log = (l: string) => {
    if (process.env.RAMP_DEMO_VERBOSE) say(`  controller: ${l}`);
  };
  // The dev cluster's Prometheus is on loopback.
  const outbound = new OutboundDoor(await outboundPolicy({ allowLoopback: true }, client.server));
  const background = new KubeClient(backgroundClientOptions(clientOptions));
  const events = new EventRecorder(background, { log });
  // What `ramp controller` runs, in-process.
  const controllers = controllerSet(client, {
    namespace: ns,
    outbound,
    log,
    events,
    background,
    analysis: { prometheusUrl: cluster.prometheusUrl },
  });
  let ok = false;
  try {
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await controllers.start();
    say(`Ramp's controller is running; namespace ${ns}`);
    for (const obj of objects(ns)) await client.create(obj);
    say(
      "created Services shop-stable and shop-canary, HTTPRoute shop (100/0), AnalysisTemplate error-rate (5xx share <= 5%), Rollout shop",
    );

    const get = () => client.get<Rollout>(API, "Rollout", APP, ns);
    /** Prints each change of phase, step and weight (with the traffic actually seen) until `done`. */
    const follow = async (stage: string, done: (s: RolloutStatus) => boolean): Promise<RolloutStatus> => {
      const deadline = Date.now() + opts.stageTimeoutMs;
      let last = "";
      for (;;) {
        const r = await get();
        const s = r.status ?? {};
        const current = r.metadata.generation === s.observedGeneration;
        const weight = s.canary?.weights?.canary.weight;
        const run = s.canary?.currentStepAnalysisRun;
        const line = `${s.phase ?? "…"} step ${s.currentStepIndex ?? 0}/4${weight !== undefined ? ` weight ${weight}%` : ""}${run?.phase ? ` analysis ${run.phase}` : ""}`;
        if (line !== last) {
          const share = await canaryShare(cluster, ns);
          say(
            `${stage}: ${line}${share !== undefined ? ` (simulator: ${(share * 100).toFixed(0)}% of requests on the canary)` : ""}`,
          );
          last = line;
        }
        if (current && done(s)) return s;
        if (Date.now() > deadline) throw new Error(`${stage}: not done within ${opts.stageTimeoutMs / 1000}s (${line})`);
        await sleep(500);
      }
    };

    const v1 = await follow("v1", (s) => s.phase === "Healthy");
    say(`v1 is stable (${v1.stableRS}); traffic: 100% stable`);

    const goodAt = Date.now();
    say("deploying v2, a good version: the canary walks 25% -> analysis -> 75% -> 100%");
    await client.patch(API, "Rollout", APP, ns, { spec: { template: template(`${APP}:2`, "0") } });
    const v2 = await follow("v2", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash && s.stableRS !== v1.stableRS);
    const goodSeconds = (Date.now() - goodAt) / 1000;
    say(`v2 promoted after its analysis passed: ${goodSeconds.toFixed(1)}s`);

    const badAt = Date.now();
    say("deploying v3, a bad version: its pods fail 30% of requests");
    await client.patch(API, "Rollout", APP, ns, { spec: { template: template(`${APP}:3`, "0.3") } });
    const v3 = await follow("v3", (s) => s.phase === "Degraded" && s.abort === true);
    const runName = v3.canary?.currentStepAnalysisRun?.name;
    const run = runName ? await client.get<Run>(API, "AnalysisRun", runName, ns) : undefined;
    const failing = run?.status?.metricResults?.[0]?.measurements?.find((m) => m.phase === "Failed");
    const lag =
      failing?.finishedAt && v3.abortedAt ? (Date.parse(v3.abortedAt) - Date.parse(failing.finishedAt)) / 1000 : undefined;
    await follow("v3", (s) => (s.canary?.weights?.canary.weight ?? 0) === 0);
    // The simulator follows the route's change within a moment: measure a fresh window after it.
    await sleep(1500);
    await canaryShare(cluster, ns);
    await sleep(3000);
    const share = await canaryShare(cluster, ns);
    const stable = (await get()).status?.stableRS;
    ok = stable === v2.stableRS;

    print("");
    print("Summary");
    print(`  v2 (good): walked 25% -> analysis -> 75% -> 100% and promoted in ${goodSeconds.toFixed(1)}s`);
    print(
      `  v3 (bad):  error rate ${failing?.value ? `${(Number(failing.value) * 100).toFixed(1)}%` : "?"} > 5% caught; rolled back ${((Date.now() - badAt) / 1000).toFixed(1)}s after deploy` +
        (lag !== undefined ? `, ${lag.toFixed(1)}s after the failing measurement` : ""),
    );
    print(
      `  now:       stable is ${stable} (v2), canary traffic ${share !== undefined ? `${(share * 100).toFixed(0)}%` : "n/a"}`,
    );
    print(`  total:     ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (!ok) print(`  unexpected: stable is ${stable}, expected ${v2.stableRS}`);
  } finally {
    await controllers.stop();
    await events.flush(5_000);
    events.stop();
    if (opts.keep) {
      print("");
      print(`the cluster keeps running (namespace ${ns}). To look around:`);
      print(`  eval "$(./ramp dev env --name ${opts.clusterName})"`);
      print(`  ./ramp status ${APP} -n ${ns}      # the controller stopped with the demo: ./ramp controller -n ${ns}`);
      print(`  ./ramp dev down --name ${opts.clusterName}`);
    } else {
      await devDown(opts.clusterName);
    }
  }
  return ok;
}
