// The judge against a fresh baseline, closed loop on the dev cluster: a replica-based canary with
// strategy.canary.baseline gets a baseline ReplicaSet of the stable template, as many pods as the
// canary and started with it; the simulator sends the user's HTTPRoute traffic to every pod behind
// the Service (stable, canary and baseline alike, so canary and baseline get equal shares), the real
// Prometheus scrapes it, and the real controllers run the judge canary vs baseline and decide.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeError, KubeObject } from "../src/kube/client.ts";
import type { ReplicaSetObject } from "../src/rollout/objects.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  ramp,
  replicaSets,
  rollout,
  service,
  setImage,
  startNamespacedController,
  waitForRollout,
} from "./rollouts.ts";

type Run = KubeObject & {
  spec: { args?: { name: string; value?: string }[] };
  status?: {
    phase?: string;
    metricResults?: { name: string; phase: string; measurements?: { phase: string; metadata?: Record<string, string> }[] }[];
  };
};

/** Canary and baseline by their pod-template hashes: mean latency (judged by medians of its points)
 * and error proportions. */
const judgeTemplate = (ns: string) => {
  const series = (name: string, hash: string, more = "") =>
    `${name}{namespace="${ns}",service="{{args.service}}",pod_template_hash="{{args.${hash}}}"${more}}`;
  const meanLatency = (hash: string) =>
    `sum(rate(${series("http_request_duration_seconds_sum", hash)}[10s])) / sum(rate(${series("http_request_duration_seconds_count", hash)}[10s]))`;
  const count = (hash: string, errors: boolean) =>
    `sum(increase(${series("http_requests_total", hash, errors ? ',code=~"5.."' : "")}[30s]))`;
  return {
    apiVersion: "ramp.dev/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name: "judge", namespace: ns },
    spec: {
      args: [{ name: "service" }, { name: "canaryHash" }, { name: "baselineHash" }],
      metrics: [
        {
          name: "latency",
          // Both sides' pods need traffic and scrapes before a window of points exists.
          initialDelay: "30s",
          provider: {
            judge: {
              canary: meanLatency("canaryHash"),
              baseline: meanLatency("baselineHash"),
              window: "30s",
              step: "2s",
              tolerance: "10%",
            },
          },
        },
        {
          name: "errors",
          initialDelay: "30s",
          provider: {
            judge: {
              counts: {
                canaryErrors: count("canaryHash", true),
                canaryTotal: count("canaryHash", false),
                baselineErrors: count("baselineHash", true),
                baselineTotal: count("baselineHash", false),
              },
              window: "30s",
            },
          },
        },
      ],
    },
  };
};

/** Half the pods on the new version beside as many baseline pods, then the judge decides. */
async function judgedRollout(ns: string, name: string): Promise<string> {
  await kube().create(service(ns, name, name));
  await kube().create({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: ns },
    spec: { rules: [{ backendRefs: [{ name, port: 80 }] }] },
  });
  await kube().create(
    rollout(ns, name, {
      replicas: 4,
      strategy: {
        canary: {
          abortScaleDownDelaySeconds: 2,
          scaleDownDelaySeconds: 2,
          baseline: { enabled: true },
          steps: [
            { setWeight: 50 },
            {
              analysis: {
                templates: [{ templateName: "judge" }],
                args: [
                  { name: "service", value: name },
                  { name: "canaryHash", valueFrom: { podTemplateHashValue: "Latest" } },
                  { name: "baselineHash", valueFrom: { podTemplateHashValue: "Baseline" } },
                ],
              },
            },
          ],
        },
      },
    }),
  );
  return (await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy")).stableRS as string;
}

const baselinesOf = async (ns: string, name: string) =>
  (await replicaSets(ns)).filter((rs) => rs.metadata.name.startsWith(`${name}-`) && rs.metadata.labels?.["ramp.dev/role"]);

/** The baseline while the analysis runs: the stable template, the canary's size, its own hash and role. */
async function baselineBesideCanary(
  ns: string,
  name: string,
  v1Image: string,
): Promise<{ canary: string; rs: ReplicaSetObject }> {
  return eventually(
    `${ns}/${name}: baseline beside the canary`,
    async () => {
      const r = await kube().get<KubeObject & { status?: { currentPodHash?: string } }>("ramp.dev/v1alpha1", "Rollout", name, ns);
      const canary = r.status?.currentPodHash;
      const rs = (await baselinesOf(ns, name)).find((b) => b.metadata.name === `${name}-${canary}-baseline`);
      return rs && (rs.status?.availableReplicas ?? 0) === 2 ? { canary: canary as string, rs } : undefined;
    },
    90_000,
  ).then((found) => {
    const labels = found.rs.spec.template.metadata?.labels ?? {};
    expect(labels).toMatchObject({
      app: name,
      "ramp.dev/role": "baseline",
      "ramp.dev/pod-template-hash": `${found.canary}-baseline`,
    });
    expect(found.rs.spec.replicas).toBe(2);
    expect(found.rs.spec.template.spec.containers[0]?.image).toBe(v1Image);
    expect(found.rs.metadata.annotations?.["ramp.dev/revision"]).toBeUndefined();
    return found;
  });
}

/** The step's run: measured with the baseline's hash, and each metric's verdict and figures. */
async function stepRun(ns: string, name: string, canary: string): Promise<Run> {
  const run = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", `${name}-${canary}-step1`, ns);
  expect(run.spec.args).toContainEqual({ name: "baselineHash", value: `${canary}-baseline` });
  for (const m of run.status?.metricResults ?? []) {
    const meta = m.measurements?.at(-1)?.metadata ?? {};
    console.log(
      `${name} ${m.name}: ${m.phase} effect=${meta.effect} p=${meta.p} n=${meta.n_canary}/${meta.n_baseline}`,
      m.name === "latency"
        ? `median canary ${meta.median_canary} baseline ${meta.median_baseline}`
        : `error rate canary ${meta.errorRate_canary} baseline ${meta.errorRate_baseline}`,
    );
  }
  return run;
}

const phaseOf = (run: Run, metric: string) => run.status?.metricResults?.find((m) => m.name === metric)?.phase;

describe("the judge against a fresh baseline, end-to-end", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("baseline");
    await kube().create(judgeTemplate(ns));
    controller = await startNamespacedController(ns);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it.each([
    {
      name: "a baseline behind a traffic router",
      canary: {
        baseline: { enabled: true },
        stableService: "a",
        canaryService: "b",
        trafficRouting: { gatewayAPI: { httpRoute: "web" } },
      },
      message: "spec.strategy.canary.baseline: Invalid value: baseline needs replica-count routing",
    },
    {
      name: "a Baseline hash argument without a baseline",
      canary: {
        steps: [
          {
            analysis: {
              templates: [{ templateName: "judge" }],
              args: [{ name: "b", valueFrom: { podTemplateHashValue: "Baseline" } }],
            },
          },
        ],
      },
      message:
        "spec.strategy.canary.baseline: Invalid value: podTemplateHashValue Baseline needs strategy.canary.baseline.enabled",
    },
  ])("the apiserver refuses $name, naming the field", async ({ canary, message }) => {
    const err = await kube()
      .create(rollout(ns, "refused", { strategy: { canary } }))
      .catch((e: unknown) => e);
    expect((err as KubeError).status, String(err)).toBe(422);
    expect((err as KubeError).message).toContain(message);
  });

  it.concurrent("+30% latency on the canary is caught against the baseline: rolled back, the baseline removed", async () => {
    await judgedRollout(ns, "slow");
    await setImage(ns, "slow", "slow:2", { SIM_LATENCY_MS: "26" });
    const { canary } = await baselineBesideCanary(ns, "slow", "slow:1");
    const degraded = await waitForRollout(ns, "slow", "aborted by the judge", (s) => s.phase === "Degraded", 150_000);
    expect(degraded.abort).toBe(true);
    const run = await stepRun(ns, "slow", canary);
    expect(run.status?.phase).toBe("Failed");
    expect(phaseOf(run, "latency")).toBe("Failed");
    expect(phaseOf(run, "errors")).toBe("Successful");
    await eventually("baseline removed after the abort", async () => (await baselinesOf(ns, "slow")).length === 0, 60_000);
  }, 240_000);

  it.concurrent("equal versions pass against the baseline: Healthy, the baseline removed", async () => {
    await judgedRollout(ns, "same");
    await setImage(ns, "same", "same:2");
    const { canary } = await baselineBesideCanary(ns, "same", "same:1");
    // ramp status lists it as the baseline, with no revision.
    const shown = await ramp("get", "same", "-n", ns);
    expect(shown.stdout, shown.stderr).toMatch(new RegExp(`-\\s+${canary}-baseline\\s+baseline\\s+same:1`));
    const done = await waitForRollout(
      ns,
      "same",
      "completed",
      (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash,
      150_000,
    );
    expect(done.stableRS).toBe(canary);
    const run = await stepRun(ns, "same", canary);
    expect(run.status?.phase).toBe("Successful");
    await eventually("baseline removed on success", async () => (await baselinesOf(ns, "same")).length === 0, 60_000);
  }, 240_000);

  it.concurrent("a handful of errors on the canary against a clean baseline is caught", async () => {
    await judgedRollout(ns, "flaky");
    await setImage(ns, "flaky", "flaky:2", { SIM_ERROR_RATE: "0.02" });
    const { canary } = await baselineBesideCanary(ns, "flaky", "flaky:1");
    const degraded = await waitForRollout(ns, "flaky", "aborted by the judge", (s) => s.phase === "Degraded", 150_000);
    expect(degraded.abort).toBe(true);
    const run = await stepRun(ns, "flaky", canary);
    expect(phaseOf(run, "errors")).toBe("Failed");
    expect(phaseOf(run, "latency")).toBe("Successful");
    await eventually("baseline removed after the abort", async () => (await baselinesOf(ns, "flaky")).length === 0, 60_000);
  }, 240_000);
});
