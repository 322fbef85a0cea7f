// Benchmark: N canary Rollouts get a new image at once. Prints p50/p99 time from the spec change to
// the first step, the controller's CPU seconds and peak RSS, and apiserver requests per rollout from
// the apiserver's own /metrics. Figures only; nothing here asserts a time.
//
//   node bench/rollouts.ts [--rollouts 100] [--replicas 2] [--workers 4] [--qps 50] [--burst 100]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { devDown, devUp } from "../src/dev/up.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";

const { values: flags } = parseArgs({
  options: {
    rollouts: { type: "string", default: "100" },
    replicas: { type: "string", default: "2" },
    workers: { type: "string", default: "4" },
    qps: { type: "string", default: "50" },
    burst: { type: "string", default: "100" },
  },
});
const N = Number(flags.rollouts);
const REPLICAS = Number(flags.replicas);
const NS = "bench";
const ROOT = join(import.meta.dirname, "..");

type Rollout = KubeObject & {
  status?: { phase?: string; currentStepIndex?: number; currentPodHash?: string; stableRS?: string };
};

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

/** utime+stime in seconds and peak RSS in MiB of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; peakRssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return { cpuSeconds: ticks / 100, peakRssMiB: Number(hwm) / 1024 };
}

/** apiserver_request_total summed by resource and verb, for the resources the controller touches. */
async function apiserverRequests(kube: KubeClient): Promise<Map<string, number>> {
  // Plain text: the client hands non-JSON bodies back as { message }.
  const text = (await kube.request<{ message: string }>("GET", "/metrics")).message;
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (!["rollouts", "replicasets", "services", "analysisruns", "events", "leases"].includes(labels.resource ?? "")) continue;
    const key = `${labels.resource}${labels.subresource ? `/${labels.subresource}` : ""} ${labels.verb}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

const template = (i: number, image: string) => ({
  metadata: { labels: { app: `b${i}` } },
  spec: { containers: [{ name: "app", image }] },
});

async function main() {
  console.log(`bench: ${N} rollouts x ${REPLICAS} replicas; starting the dev cluster`);
  const cluster = await devUp({ name: "bench", nodes: 3 });
  const kube = new KubeClient({ kubeconfig: cluster.kubeconfig, fieldManager: "ramp-bench", qps: 500, burst: 1000 });
  const controller = spawn(
    process.execPath,
    [
      join(ROOT, "src/cli/main.ts"),
      "controller",
      `--kubeconfig=${cluster.kubeconfig}`,
      `--namespace=${NS}`,
      `--leader-election-namespace=${NS}`,
      "--metrics-port=0",
      `--workers=${flags.workers}`,
      `--qps=${flags.qps}`,
      `--burst=${flags.burst}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  controller.stderr?.on("data", (c) => (log += c));
  try {
    await kube.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    const name = (i: number) => `b${i}`;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        kube.create({
          apiVersion: "ramp.dev/v1alpha1",
          kind: "Rollout",
          metadata: { name: name(i), namespace: NS },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: { app: name(i) } },
            template: template(i, "app:1"),
            strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
          },
        }),
      ),
    );
    const firstStepAt = new Map<string, number>();
    const healthy = new Set<string>();
    let changedAt = Number.POSITIVE_INFINITY;
    const informer = new Informer<Rollout>(kube, {
      apiVersion: "ramp.dev/v1alpha1",
      kind: "Rollout",
      namespace: NS,
      onChange: (_t, r) => {
        const s = r.status;
        const key = r.metadata.name ?? "";
        if (s?.phase === "Healthy") healthy.add(key);
        // The first step is done once the new revision's status has moved past step 0.
        if (Date.now() >= changedAt && s?.currentPodHash !== s?.stableRS && (s?.currentStepIndex ?? 0) >= 1) {
          if (!firstStepAt.has(key)) firstStepAt.set(key, Date.now() - changedAt);
        }
      },
    });
    await informer.start();
    const waitUntil = async (what: string, done: () => boolean, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out: ${what}\n${log.slice(-2000)}`);
        await sleep(100);
      }
    };
    await waitUntil(`${N} rollouts healthy`, () => healthy.size === N, 10 * 60_000);
    console.log(`bench: ${N} rollouts healthy at revision 1; changing every image at once`);

    const before = await apiserverRequests(kube);
    const usageBefore = processUsage(controller.pid as number);
    changedAt = Date.now();
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        kube.patch("ramp.dev/v1alpha1", "Rollout", name(i), NS, { spec: { template: template(i, "app:2") } }),
      ),
    );
    const patchedMs = Date.now() - changedAt;
    await waitUntil("every rollout at its first step", () => firstStepAt.size === N, 10 * 60_000);
    const usage = processUsage(controller.pid as number);
    const after = await apiserverRequests(kube);
    informer.stop();

    const times = [...firstStepAt.values()].sort((a, b) => a - b);
    const delta = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
    const total = delta.reduce((sum, [, v]) => sum + v, 0);
    console.log(`\nspec change -> first step (${N} rollouts, patches sent in ${patchedMs} ms):`);
    console.log(
      `  p50 ${(quantile(times, 0.5) / 1000).toFixed(2)} s   p99 ${(quantile(times, 0.99) / 1000).toFixed(2)} s   max ${((times.at(-1) ?? 0) / 1000).toFixed(2)} s`,
    );
    console.log(
      `controller: ${(usage.cpuSeconds - usageBefore.cpuSeconds).toFixed(2)} CPU s for the change (${usage.cpuSeconds.toFixed(2)} s since start), peak RSS ${usage.peakRssMiB.toFixed(0)} MiB`,
    );
    console.log(
      `apiserver requests for the change: ${total} = ${(total / N).toFixed(1)} per rollout (all clients; replicasets include the ReplicaSet controller's status writes)`,
    );
    for (const [k, v] of delta.sort((a, b) => b[1] - a[1]))
      console.log(`  ${k.padEnd(28)} ${String(v).padStart(6)}  ${(v / N).toFixed(2)}/rollout`);
    // Events from every component (the ReplicaSet controller's and the scheduler's included), by source.
    const sources = new Map<string, number>();
    for (const e of await kube.list<KubeObject & { reason: string; source?: { component?: string } }>("v1", "Event", NS)) {
      const key = `${e.source?.component ?? "?"} ${e.reason}`;
      sources.set(key, (sources.get(key) ?? 0) + 1);
    }
    console.log("events in the namespace (both revisions), by source and reason:");
    for (const [k, v] of [...sources].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(40)} ${String(v).padStart(6)}`);
  } finally {
    controller.kill("SIGTERM");
    await devDown("bench");
  }
}

await main();
