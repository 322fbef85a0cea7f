// Blue-green end to end: preview, manual promotion, the active switch, post-promotion analysis (its
// phase set by the test, as the analysis controller would) and the scale-down.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blueGreenFlow } from "./flows.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  analysisTemplate,
  type ControllerProcess,
  getRollout,
  podsByHash,
  rollout,
  selectorHash,
  service,
  setImage,
  setRunPhase,
  startController,
  waitForRollout,
} from "./rollouts.ts";

describe("blue-green rollout", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("bg");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns, "--no-analysis"]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("previews, waits for promote, switches active, runs post-promotion analysis and scales the old pods down", () =>
    blueGreenFlow({ ns, name: "shop" }));

  it("a failed post-promotion analysis switches active back and aborts", async () => {
    await kube().create(service(ns, "cart-active", "cart"));
    await kube().create(analysisTemplate(ns, "cart-smoke"));
    await kube().create(
      rollout(ns, "cart", {
        replicas: 2,
        strategy: {
          blueGreen: {
            activeService: "cart-active",
            postPromotionAnalysis: { templates: [{ templateName: "cart-smoke" }] },
            abortScaleDownDelaySeconds: 3,
          },
        },
      }),
    );
    const v1 = (await waitForRollout(ns, "cart", "healthy", (s) => s.phase === "Healthy")).stableRS as string;
    await setImage(ns, "cart", "cart:2");
    const run = await eventually(
      "post-promotion run",
      async () => (await getRollout(ns, "cart")).status?.blueGreen?.postPromotionAnalysisRun?.name,
    );
    const v2 = (await getRollout(ns, "cart")).status?.currentPodHash as string;
    expect(await selectorHash(ns, "cart-active")).toBe(v2);
    await setRunPhase(ns, run, "Failed");
    await waitForRollout(ns, "cart", "degraded", (s) => s.phase === "Degraded");
    expect(await selectorHash(ns, "cart-active")).toBe(v1);
    await eventually("preview pods gone after the abort delay", async () => (await podsByHash(ns))[v2] === 0, 30_000);
  });
});
