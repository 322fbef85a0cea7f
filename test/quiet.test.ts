// A settled controller is quiet: reconciles come from changes and from planned requeues, never from
// its own writes coming back through a watch. Counted from /metrics (ramp_reconcile_total).
import { describe, expect, it } from "vitest";
import { cluster, kube, namespace } from "./helpers.ts";
import { reconciles, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

/** Reconciles counted over a window; the window is long enough to see a loop, whatever the machine. */
async function reconcilesOver(url: string, ms: number): Promise<number> {
  const before = await reconciles(url);
  await new Promise((r) => setTimeout(r, ms));
  return (await reconciles(url)) - before;
}

describe("reconcile rate", () => {
  it("a canary whose analysis template names its own Prometheus address is quiet during the analysis and once Healthy", async () => {
    const ns = await namespace("quiet");
    await kube().create({
      apiVersion: "ramp.dev/v1alpha1",
      kind: "AnalysisTemplate",
      metadata: { name: "own-address", namespace: ns },
      spec: {
        metrics: [
          {
            name: "always-zero",
            count: 5,
            interval: "3s",
            successCondition: "result == 0",
            provider: { prometheus: { address: cluster().prometheusUrl, query: "vector(0)" } },
          },
        ],
      },
    });
    const c = await startController(["--namespace", ns]);
    try {
      await kube().create(
        rollout(ns, "calm", {
          replicas: 2,
          strategy: { canary: { steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "own-address" }] } }] } },
        }),
      );
      await waitForRollout(ns, "calm", "healthy", (s) => s.phase === "Healthy");
      await setImage(ns, "calm", "calm:2");
      await waitForRollout(ns, "calm", "analysing", (s) => s.canary?.currentStepAnalysisRun?.phase === "Running", 60_000);
      // About one reconcile per measurement (the run's status changes), plus pods becoming ready.
      expect(await reconcilesOver(c.url, 6_000)).toBeLessThan(15);
      await waitForRollout(ns, "calm", "promoted", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash, 90_000);
      // A loop runs tens of times a second; a settled Rollout sees a handful (pods becoming ready).
      expect(await reconcilesOver(c.url, 10_000)).toBeLessThan(10);
    } finally {
      await c.stop();
    }
  });
});
