// rollbackWindow end-to-end: `ramp undo` to a revision within the window goes straight to 100% —
// no step, no pause, no AnalysisRun, no intermediate weight on the real HTTPRoute — while going
// further back than the window walks the steps as any new revision does.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  getRollout,
  podsByHash,
  type RolloutObj,
  ramp,
  rollout,
  service,
  setImage,
  startNamespacedController,
  waitForRollout,
} from "./rollouts.ts";

type Route = KubeObject & { spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } };
type Event = KubeObject & { reason: string; message: string; involvedObject: { name: string } };

const STEPS = [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { analysis: { templates: [{ templateName: "ok" }] } }];

/** Measured once, always passing: only whether a run exists matters here. */
const okTemplate = (ns: string) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "ok", namespace: ns },
  spec: { metrics: [{ name: "zero", successCondition: "result == 0", provider: { prometheus: { query: "vector(0)" } } }] },
});

/** A routed canary (Gateway API) with background analysis and a window of one revision. */
async function windowed(ns: string, name: string): Promise<string> {
  await kube().create(service(ns, `${name}-stable`, name));
  await kube().create(service(ns, `${name}-canary`, name));
  await kube().create({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: ns },
    spec: {
      rules: [
        {
          backendRefs: [
            { name: `${name}-stable`, port: 80, weight: 100 },
            { name: `${name}-canary`, port: 80, weight: 0 },
          ],
        },
      ],
    },
  });
  await kube().create(
    rollout(ns, name, {
      replicas: 2,
      rollbackWindow: { revisions: 1 },
      strategy: {
        canary: {
          stableService: `${name}-stable`,
          canaryService: `${name}-canary`,
          trafficRouting: { gatewayAPI: { httpRoute: name } },
          scaleDownDelaySeconds: 2,
          analysis: { templates: [{ templateName: "ok" }] },
          steps: STEPS,
        },
      },
    }),
  );
  return (await waitForRollout(ns, name, "first revision healthy", (s) => s.phase === "Healthy")).stableRS as string;
}

/** A new image, walked to stable with `ramp promote --full`. */
async function release(ns: string, name: string, image: string): Promise<string> {
  const before = (await getRollout(ns, name)).status?.stableRS;
  await setImage(ns, name, image);
  await waitForRollout(
    ns,
    name,
    `${image} paused at the first pause`,
    (s) => s.phase === "Paused" && s.currentPodHash !== before,
  );
  const promoted = await ramp("promote", name, "-n", ns, "--full");
  expect(promoted.code, promoted.stderr).toBe(0);
  return (await waitForRollout(ns, name, `${image} stable`, (s) => s.phase === "Healthy" && s.stableRS !== before, 120_000))
    .stableRS as string;
}

const canaryWeightOf = (route: Route, name: string) =>
  route.spec.rules[0]?.backendRefs.find((b) => b.name === `${name}-canary`)?.weight;
const canaryWeight = async (ns: string, name: string) =>
  canaryWeightOf(await kube().get<Route>("gateway.networking.k8s.io/v1", "HTTPRoute", name, ns), name);

const runsFor = async (ns: string, hash: string) =>
  (await kube().list<KubeObject>("ramp.dev/v1alpha1", "AnalysisRun", ns)).filter(
    (r) => r.metadata.labels?.["ramp.dev/pod-template-hash"] === hash,
  );

describe("rollbackWindow, end-to-end", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("window");
    await kube().create(okTemplate(ns));
    controller = await startNamespacedController(ns);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it.concurrent("undo within the window skips the steps and analysis: no AnalysisRun, no intermediate weight", async () => {
    const v1 = await windowed(ns, "fast");
    const v2 = await release(ns, "fast", "fast:2");
    expect(v2).not.toBe(v1);
    // v1's pods are gone after the scale-down delay: going back has pods to make, and traffic to move.
    await eventually("v1 scaled to zero", async () => (await podsByHash(ns, "fast"))[v1] === 0, 60_000);

    // Every write of the Rollout's status and of the HTTPRoute from the undo until stable again, as watched.
    const statuses: NonNullable<RolloutObj["status"]>[] = [];
    const routeWeights: (number | undefined)[] = [];
    const rollouts = new Informer<RolloutObj>(kube(), {
      apiVersion: "ramp.dev/v1alpha1",
      kind: "Rollout",
      namespace: ns,
      onChange: (_, r) => {
        if (r.metadata.name === "fast" && r.status?.currentPodHash === v1) statuses.push(r.status);
      },
    });
    const routes = new Informer<Route>(kube(), {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      namespace: ns,
      onChange: (_, r) => {
        if (r.metadata.name === "fast") routeWeights.push(canaryWeightOf(r, "fast"));
      },
    });
    await Promise.all([rollouts.start(), routes.start()]);
    try {
      const started = Date.now();
      const undone = await ramp("undo", "fast", "-n", ns);
      expect(undone.code, undone.stderr).toBe(0);
      expect(undone.stdout).toMatch(/back to revision 1 .*; within rollbackWindow \(1\): no steps or analysis/);
      const done = await waitForRollout(ns, "fast", "back on v1, stable", (s) => s.phase === "Healthy" && s.stableRS === v1);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      expect(done.promoteFull).toBe(true);
      await eventually("the route as listed", async () => routeWeights.length > 0);
      // [step, phase, canary weight] of each status written, and the route's canary weight at each write.
      const history = JSON.stringify({
        statuses: statuses.map((s) => [s.currentStepIndex, s.phase, s.canary?.weights?.canary.weight]),
        routeWeights,
      });
      console.log(`undo within the window: stable again after ${seconds}s; ${history}`);
      expect(statuses.length, history).toBeGreaterThan(0);
      for (const s of statuses) {
        expect(s.currentStepIndex, history).toBe(STEPS.length);
        expect(s.phase, history).not.toBe("Paused");
        expect([0, 100], history).toContain(s.canary?.weights?.canary.weight);
      }
      for (const w of routeWeights) expect([0, 100], history).toContain(w);
    } finally {
      rollouts.stop();
      routes.stop();
    }
    expect(await runsFor(ns, v1)).toEqual([]);
    const events = (await kube().list<Event>("v1", "Event", ns)).filter((e) => e.involvedObject.name === "fast");
    expect(events.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/within rollbackWindow; steps and analysis skipped/),
    );
  }, 300_000);

  it.concurrent("undo further back than the window walks the steps", async () => {
    const v1 = await windowed(ns, "slow");
    await release(ns, "slow", "slow:2");
    await release(ns, "slow", "slow:3");
    // Revision 2 lies between revision 1 and the stable revision 3: outside a window of one.
    const undone = await ramp("undo", "slow", "-n", ns, "--to-revision", "1");
    expect(undone.code, undone.stderr).toBe(0);
    expect(undone.stdout).not.toMatch(/rollbackWindow/);
    const paused = await waitForRollout(
      ns,
      "slow",
      "paused at the first pause on the way back",
      (s) => s.phase === "Paused" && s.currentPodHash === v1,
      120_000,
    );
    expect(paused.currentStepIndex).toBe(1);
    expect(paused.promoteFull).toBeUndefined();
    expect(await canaryWeight(ns, "slow")).toBe(25);
    // Background analysis measures the way back.
    await eventually("a background run for v1", async () => (await runsFor(ns, v1)).length > 0, 60_000);
  }, 300_000);
});
