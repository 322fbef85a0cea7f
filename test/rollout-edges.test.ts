// The controller's other contracts end to end: workloadRef migration without downtime, InvalidSpec
// for what the CRD cannot catch, the scale subresource, restart, undo and revision history.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { readyPods, workloadRefFlow } from "./flows.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  eventReasons,
  getRollout,
  podsByHash,
  ramp,
  replicaSets,
  rollout,
  service,
  setImage,
  startController,
  waitForRollout,
} from "./rollouts.ts";

const canary = (extra: Record<string, unknown> = {}) => ({
  strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }], ...extra } },
});

describe("rollout controller edges", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("edges");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("workloadRef takes over a running Deployment with ready pods never below the desired count", () =>
    workloadRefFlow({ ns, name: "legacy" }));

  it("a missing Service, a missing analysis template and a template the apiserver refuses become InvalidSpec", async () => {
    await kube().create(rollout(ns, "nosvc", canary({ stableService: "gone-stable", canaryService: "gone-canary" })));
    const s1 = await waitForRollout(ns, "nosvc", "InvalidSpec", (s) => s.phase === "Degraded");
    expect(s1.conditions?.find((c) => c.type === "InvalidSpec")?.message).toContain('Service "gone-stable" not found');
    expect(await replicaSets(ns).then((all) => all.filter((rs) => rs.metadata.name.startsWith("nosvc-")))).toEqual([]);
    // Fixing it (creating the Services) lets it run.
    await kube().create(service(ns, "gone-stable", "nosvc"));
    await kube().create(service(ns, "gone-canary", "nosvc"));
    await waitForRollout(ns, "nosvc", "healthy once the Services exist", (s) => s.phase === "Healthy");

    await kube().create(rollout(ns, "notpl", canary({ analysis: { templates: [{ templateName: "missing" }] } })));
    const s2 = await waitForRollout(ns, "notpl", "InvalidSpec", (s) => s.phase === "Degraded");
    expect(s2.message).toContain('AnalysisTemplate "missing" not found');

    const bad = rollout(ns, "badpod", canary());
    (bad.spec.template as { spec: { containers: Record<string, unknown>[] } }).spec.containers[0] = {
      name: "badpod",
      image: "badpod:1",
      ports: [{ containerPort: 70000 }],
    };
    await kube().create(bad);
    const s3 = await waitForRollout(ns, "badpod", "InvalidSpec", (s) => s.phase === "Degraded");
    expect(s3.message).toMatch(/ReplicaSet "badpod-\w+" is invalid: .*containerPort/);
    // kstatus (Flux, kpt) sees each as Stalled, so a wait ends at once rather than at its timeout.
    for (const st of [s1, s2, s3]) {
      expect(st.conditions?.filter((c) => ["Ready", "Reconciling", "Stalled"].includes(c.type))).toMatchObject([
        { type: "Ready", status: "False", reason: "InvalidSpec" },
        {
          type: "Stalled",
          status: "True",
          reason: "InvalidSpec",
          message: st.conditions?.find((c) => c.type === "InvalidSpec")?.message,
        },
      ]);
    }
    // The controller does not crash or loop: it is still serving and still handles others.
    expect((await fetch(`${controller.url}/healthz`)).status).toBe(200);
  });

  it("the scale subresource (as an HPA uses it) resizes the Rollout", async () => {
    await kube().create(rollout(ns, "scaled", { replicas: 2, ...canary() }));
    await waitForRollout(ns, "scaled", "healthy", (s) => s.phase === "Healthy" && s.availableReplicas === 2);
    await kube().patch("ramp.dev/v1alpha1", "Rollout", "scaled", ns, { spec: { replicas: 5 } }, { subresource: "scale" });
    const s = await waitForRollout(ns, "scaled", "5 replicas", (st) => st.phase === "Healthy" && st.availableReplicas === 5);
    const scale = await kube().get<KubeObject & { status: { replicas: number; selector: string } }>(
      "ramp.dev/v1alpha1",
      "Rollout",
      "scaled",
      ns,
    );
    expect(scale.status.replicas).toBe(5);
    expect(s.selector).toBe("app=scaled");
  });

  it("restart replaces every pod; undo goes back to the previous revision", async () => {
    await kube().create(rollout(ns, "cycle", { replicas: 3, ...canary({ maxUnavailable: 1 }) }));
    await waitForRollout(ns, "cycle", "healthy", (s) => s.phase === "Healthy");
    const before = new Set((await readyPods(ns, "cycle")).map((p) => p.metadata.name));
    const restarted = await ramp("restart", "cycle", "-n", ns);
    expect(restarted.code, restarted.stderr).toBe(0);
    await waitForRollout(ns, "cycle", "restarted", (s) => s.restartedAt !== undefined && s.phase === "Healthy", 60_000);
    const after = (await readyPods(ns, "cycle")).map((p) => p.metadata.name);
    expect(after.filter((n) => before.has(n))).toEqual([]);

    const v1 = (await getRollout(ns, "cycle")).status?.stableRS as string;
    await setImage(ns, "cycle", "cycle:2");
    await waitForRollout(ns, "cycle", "paused", (s) => s.phase === "Paused");
    expect((await ramp("promote", "cycle", "-n", ns)).code).toBe(0);
    await waitForRollout(ns, "cycle", "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS !== v1);
    const undone = await ramp("undo", "cycle", "-n", ns);
    expect(undone.code, undone.stderr).toBe(0);
    await waitForRollout(ns, "cycle", "paused on the way back", (s) => s.phase === "Paused" && s.currentPodHash === v1);
    expect((await podsByHash(ns))[v1]).toBeGreaterThan(0);
  });

  it("a missing HTTPRoute is a TrafficRoutingError in the status, retried until the route exists", async () => {
    await kube().create(service(ns, "routed-stable", "routed"));
    await kube().create(service(ns, "routed-canary", "routed"));
    const canaryRouted = {
      stableService: "routed-stable",
      canaryService: "routed-canary",
      trafficRouting: { gatewayAPI: { httpRoute: "routed" } },
      steps: [{ setWeight: 50 }, { pause: {} }],
    };
    await kube().create(rollout(ns, "routed", { replicas: 2, strategy: { canary: canaryRouted } }));
    const routingError = async () => {
      const s = (await getRollout(ns, "routed")).status;
      return s?.conditions?.find((c) => c.type === "Progressing" && c.reason === "TrafficRoutingError");
    };
    const first = await eventually("healthy or a routing error", async () => {
      const s = (await getRollout(ns, "routed")).status;
      return (await routingError()) ?? (s?.phase === "Healthy" ? "healthy" : undefined);
    });
    if (first === "healthy") await setImage(ns, "routed", "routed:2");
    const condition = await eventually("the routing error", routingError);
    expect(condition).toMatchObject({ status: "False", message: `HTTPRoute "routed" not found in namespace "${ns}"` });
    // Retried, so kstatus sees it as still reconciling, not stalled.
    const retrying = (await getRollout(ns, "routed")).status?.conditions ?? [];
    expect(retrying.find((c) => c.type === "Reconciling")).toMatchObject({ status: "True", reason: "TrafficRoutingError" });
    expect(retrying.find((c) => c.type === "Stalled")).toBeUndefined();
    expect(await eventReasons(ns, "routed")).toContain("TrafficRoutingError");

    await kube().create({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "routed", namespace: ns },
      spec: {
        rules: [
          {
            backendRefs: [
              { name: "routed-stable", port: 80, weight: 100 },
              { name: "routed-canary", port: 80, weight: 0 },
            ],
          },
        ],
      },
    });
    await waitForRollout(ns, "routed", "past the error", (s) => s.phase === "Paused" || s.phase === "Healthy", 90_000);
    expect(await routingError()).toBeUndefined();
  });
});
