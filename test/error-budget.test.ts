// The errorBudget step end-to-end on the dev cluster: the real controllers, the traffic simulator
// and Prometheus. A release of `app` waits while the budget of the service it depends on
// (`upstream`, half its answers 5xx) is spent, checks again by itself, and goes on once upstream
// is fixed and its budget recovers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  eventReasons,
  getRollout,
  podsByHash,
  ramp,
  rollout,
  service,
  setImage,
  startNamespacedController,
  template,
  waitForRollout,
} from "./rollouts.ts";

const budgetTemplate = (ns: string) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "budget", namespace: ns },
  spec: {
    args: [{ name: "service" }],
    metrics: [
      {
        name: "budget",
        provider: {
          burnRate: {
            objective: 0.9,
            traffic: { source: "http", service: "{{args.service}}", namespace: ns },
            budget: { window: "20s" },
            minRequests: 10,
          },
        },
      },
    ],
  },
});

/** A Rollout with a Service and an HTTPRoute, so the simulator sends it traffic. */
async function routedRollout(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await kube().create(service(ns, name, name));
  await kube().create({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: ns },
    spec: { rules: [{ backendRefs: [{ name, port: 80 }] }] },
  });
  await kube().create(rollout(ns, name, { replicas: 2, ...spec }));
  await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy");
}

describe("errorBudget step", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("budget");
    await kube().create(budgetTemplate(ns));
    controller = await startNamespacedController(ns);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("holds a release while the budget is spent, rechecks by itself, and releases it once the budget recovers", async () => {
    await routedRollout(ns, "upstream", {
      template: template("upstream", "upstream:1", { SIM_ERROR_RATE: "0.5" }),
      strategy: { canary: { steps: [], scaleDownDelaySeconds: 1 } },
    });
    await routedRollout(ns, "app", {
      strategy: {
        canary: {
          scaleDownDelaySeconds: 1,
          steps: [
            {
              errorBudget: {
                templates: [{ templateName: "budget" }],
                args: [{ name: "service", value: "upstream" }],
                recheckInterval: "5s",
              },
            },
            { setWeight: 50 },
          ],
        },
      },
    });

    await setImage(ns, "app", "app:2");
    const held = await waitForRollout(
      ns,
      "app",
      "held: error budget spent",
      (s) =>
        s.phase === "Paused" &&
        s.canary?.errorBudget?.code === "ERROR_BUDGET_SPENT" &&
        s.canary.currentStepAnalysisRun?.phase === "Failed",
      120_000,
    );
    // Failed, not Inconclusive: upstream's budget was measured, and spent.
    console.log(`held: ${held.canary?.errorBudget?.message}`);
    const v2 = held.currentPodHash as string;
    expect(held.pauseConditions?.map((p) => p.reason)).toEqual(["ErrorBudgetSpent"]);
    expect(held.currentStepIndex).toBe(0);
    expect(held.message).toMatch(/paused at step 1 of 2: error budget spent/);
    expect((await podsByHash(ns, "app"))[v2] ?? 0).toBe(0);
    const status = await ramp("status", "app", "-n", ns);
    expect(status.stdout).toMatch(/Paused.*error budget spent/);

    // It checks again by itself, every recheckInterval, and stays held while upstream still fails.
    const rechecked = await waitForRollout(ns, "app", "checked again", (s) => (s.canary?.errorBudget?.checks ?? 0) >= 3, 90_000);
    expect(rechecked.phase).toBe("Paused");
    expect(rechecked.canary?.errorBudget?.spentSince).toBe(held.canary?.errorBudget?.spentSince);

    // Fix upstream: its budget over the 20s window recovers once its failing pods are gone.
    const fixedAt = Date.now();
    await setImage(ns, "upstream", "upstream:2", { SIM_ERROR_RATE: "0" });
    const done = await waitForRollout(
      ns,
      "app",
      "released and completed",
      (s) => s.phase === "Healthy" && s.stableRS === v2,
      240_000,
    );
    console.log(`upstream fixed -> app released and completed: ${((Date.now() - fixedAt) / 1000).toFixed(1)}s`);
    expect(done.pauseConditions ?? []).toEqual([]);
    expect(done.canary?.errorBudget?.spentSince).toBeUndefined();
    await eventually("an ErrorBudgetAvailable event", async () =>
      (await eventReasons(ns, "app")).includes("ErrorBudgetAvailable"),
    );
    const app = await getRollout(ns, "app");
    expect(app.status?.currentStepIndex).toBe(2);
  }, 420_000);
});
