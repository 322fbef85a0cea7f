// The closed loop on the dev cluster: the controller (with its analysis controller) measures a
// replica-based canary against the real Prometheus scraping the traffic simulator, and decides.
// A user's HTTPRoute sends traffic to the Service, which selects the stable and the canary pods alike;
// the slo shorthand looks only at the canary's pods (pod_template_hash).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  getRollout,
  podsByHash,
  rollout,
  service,
  setImage,
  startNamespacedController,
  waitForRollout,
} from "./rollouts.ts";

type Run = KubeObject & {
  status?: { phase?: string; metricResults?: { measurements?: { phase: string; finishedAt?: string; value?: string }[] }[] };
};

const errorsTemplate = (ns: string) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "errors", namespace: ns },
  spec: {
    args: [{ name: "service" }, { name: "hash" }],
    metrics: [
      {
        name: "error-rate",
        // New pods need a few scrapes before a rate means anything; an early idle window is tolerated.
        initialDelay: "10s",
        interval: "5s",
        count: 4,
        inconclusiveLimit: 1,
        provider: {
          slo: {
            source: "http",
            service: "{{args.service}}",
            namespace: ns,
            podTemplateHash: "{{args.hash}}",
            window: "20s",
            minRequests: 20,
            errorRate: { max: 0.05 },
          },
        },
      },
    ],
  },
});

/** Replica-based canary: half the pods on the new version, then the analysis decides. */
async function analysedRollout(ns: string, name: string, routed: boolean): Promise<string> {
  await kube().create(service(ns, name, name));
  if (routed) {
    await kube().create({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name, namespace: ns },
      spec: { rules: [{ backendRefs: [{ name, port: 80 }] }] },
    });
  }
  await kube().create(
    rollout(ns, name, {
      replicas: 4,
      strategy: {
        canary: {
          abortScaleDownDelaySeconds: 2,
          scaleDownDelaySeconds: 2,
          steps: [
            { setWeight: 50 },
            {
              analysis: {
                templates: [{ templateName: "errors" }],
                args: [
                  { name: "service", value: name },
                  { name: "hash", valueFrom: { podTemplateHashValue: "Latest" } },
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

describe("analysis closed loop", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("loop");
    await kube().create(errorsTemplate(ns));
    controller = await startNamespacedController(ns);
  });
  afterAll(async () => {
    await controller?.stop();
    if (process.env.RAMP_TEST_VERBOSE) {
      for (const r of await kube().list<Run>("ramp.dev/v1alpha1", "AnalysisRun", ns))
        console.log(JSON.stringify(r.status, null, 1));
      for (const r of await kube().list("ramp.dev/v1alpha1", "Rollout", ns)) console.log(JSON.stringify(r.status, null, 1));
    }
  });

  it.concurrent("a canary whose pods fail 20% of requests is aborted by itself, ending with zero canary pods", async () => {
    const v1 = await analysedRollout(ns, "bad", true);
    await setImage(ns, "bad", "bad:2", { SIM_ERROR_RATE: "0.2" });
    const degraded = await waitForRollout(ns, "bad", "aborted by analysis", (s) => s.phase === "Degraded", 120_000);
    const v2 = degraded.currentPodHash as string;
    expect(degraded.abort).toBe(true);
    expect(degraded.message).toMatch(/analysis|Failed/i);
    const runName = degraded.canary?.currentStepAnalysisRun?.name as string;
    const run = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", runName, ns);
    expect(run.status?.phase).toBe("Failed");
    const failing = run.status?.metricResults?.[0]?.measurements?.find((m) => m.phase === "Failed");
    const abortedAt = degraded.abortedAt as string;
    const lag = (Date.parse(abortedAt) - Date.parse(failing?.finishedAt as string)) / 1000;
    console.log(`first failing measurement (${failing?.value}) -> abort: ${lag.toFixed(1)}s`);
    await eventually("zero canary pods", async () => (await podsByHash(ns, "bad"))[v2] === 0, 30_000);
    // Stable regains its last pods within maxSurge as the canary's go.
    await eventually("stable back to 4 pods", async () => (await podsByHash(ns, "bad"))[v1] === 4, 30_000);
  }, 180_000);

  it.concurrent("a healthy canary passes its analysis and completes", async () => {
    await analysedRollout(ns, "good", true);
    await setImage(ns, "good", "good:2", { SIM_ERROR_RATE: "0" });
    const done = await waitForRollout(
      ns,
      "good",
      "completed",
      (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash && (s.currentStepIndex ?? 0) === 2,
      120_000,
    );
    const run = await kube().get<Run>("ramp.dev/v1alpha1", "AnalysisRun", `good-${done.currentPodHash}-step1`, ns);
    expect(run.status?.phase).toBe("Successful");
  }, 180_000);

  it.concurrent("an idle canary (no traffic) pauses as Inconclusive instead of promoting", async () => {
    await analysedRollout(ns, "idle", false);
    await setImage(ns, "idle", "idle:2");
    const paused = await waitForRollout(ns, "idle", "paused inconclusive", (s) => s.phase === "Paused", 120_000);
    expect(paused.pauseConditions?.map((p) => p.reason)).toContain("InconclusiveAnalysisRun");
    expect(paused.stableRS).not.toBe(paused.currentPodHash);
    expect((await getRollout(ns, "idle")).status?.abort).toBeFalsy();
  }, 180_000);
});
