// No stuck states: what a Rollout needs to carry on is found again from the cluster.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import type { ReplicaSetObject } from "../src/rollout/objects.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  eventReasons,
  podsByHash,
  ramp,
  replicaSets,
  rollout,
  service,
  setImage,
  startController,
  waitForRollout,
} from "./rollouts.ts";

/** Each wait's deadline: generous, other engineers' tests share the 2 cores. */
const LONG = 120_000;

type Route = KubeObject & { spec: { rules: { backendRefs?: { name: string; weight?: number }[] }[] } };

/** The HTTPRoute's weight on each backend. */
async function routeWeights(ns: string, name: string): Promise<Record<string, number | undefined>> {
  const route = await kube().get<Route>("gateway.networking.k8s.io/v1", "HTTPRoute", name, ns);
  return Object.fromEntries(route.spec.rules.flatMap((r) => r.backendRefs ?? []).map((b) => [b.name, b.weight]));
}

/** The stable ReplicaSet comes back under its name (a new object), with the stable pod template. */
async function recreated(ns: string, deleted: ReplicaSetObject): Promise<ReplicaSetObject> {
  return eventually(
    `${deleted.metadata.name} recreated`,
    async () => {
      const again = (await replicaSets(ns)).find((r) => r.metadata.name === deleted.metadata.name);
      return again && again.metadata.uid !== deleted.metadata.uid ? again : undefined;
    },
    LONG,
  );
}

describe("no stuck states", () => {
  it("a deleted stable ReplicaSet of a Healthy rollout comes back, with its pods", async () => {
    const ns = await namespace("stuck");
    const c = await startController(["--namespace", ns]);
    try {
      await kube().create(rollout(ns, "lost", { replicas: 2, strategy: { canary: { steps: [{ setWeight: 50 }] } } }));
      const { stableRS } = await waitForRollout(ns, "lost", "healthy", (s) => s.phase === "Healthy" && s.availableReplicas === 2);
      const [rs] = await replicaSets(ns);
      await kube().delete("apps/v1", "ReplicaSet", rs?.metadata.name ?? "", ns);
      await eventually("the stable ReplicaSet is recreated", async () => {
        const again = (await replicaSets(ns)).find((r) => r.metadata.name === rs?.metadata.name);
        return again && again.metadata.uid !== rs?.metadata.uid;
      });
      expect(await podsByHash(ns, "lost")).toEqual({ [stableRS as string]: 2 });
      await waitForRollout(ns, "lost", "healthy with its pods back", (s) => s.phase === "Healthy" && s.availableReplicas === 2);
    } finally {
      await c.stop();
    }
  }, 120_000);

  // Canary at 20% behind an HTTPRoute: stable serves 80% of the traffic. Its ReplicaSet deleted is an
  // outage until it is back; the spec holds only the new template, so it is made from the saved one.
  it.each([
    { name: "by the running controller", restart: false },
    { name: "by a new controller, the old one killed before the delete", restart: true },
  ])(
    "a stable ReplicaSet deleted mid-update (canary paused at 20%) comes back $name, traffic unchanged, then promote completes",
    async ({ restart }) => {
      const ns = await namespace("stuck-mid");
      const start = () => startController(["--namespace", ns]);
      let c: ControllerProcess = await start();
      try {
        await kube().create(service(ns, "mid-stable", "mid"));
        await kube().create(service(ns, "mid-canary", "mid"));
        await kube().create({
          apiVersion: "gateway.networking.k8s.io/v1",
          kind: "HTTPRoute",
          metadata: { name: "mid", namespace: ns },
          spec: { rules: [{ backendRefs: [{ name: "mid-stable", port: 80 }] }] },
        });
        const canary = {
          stableService: "mid-stable",
          canaryService: "mid-canary",
          scaleDownDelaySeconds: 1,
          trafficRouting: { gatewayAPI: { httpRoute: "mid" } },
          steps: [{ setWeight: 20 }, { pause: {} }],
        };
        await kube().create(rollout(ns, "mid", { replicas: 4, strategy: { canary } }));
        const first = await waitForRollout(ns, "mid", "healthy", (s) => s.phase === "Healthy" && s.availableReplicas === 4, LONG);
        const stableHash = first.stableRS as string;
        await setImage(ns, "mid", "mid:2");
        const paused = await waitForRollout(
          ns,
          "mid",
          "paused at 20%",
          (s) => s.phase === "Paused" && s.currentStepIndex === 1 && s.canary?.weights?.canary.weight === 20,
          LONG,
        );
        const canaryHash = paused.currentPodHash as string;
        const weights = { "mid-stable": 80, "mid-canary": 20 };
        expect(await routeWeights(ns, "mid")).toEqual(weights);
        const saved = await kube().get<KubeObject & { revision: number; data: unknown }>(
          "apps/v1",
          "ControllerRevision",
          `mid-${stableHash}`,
          ns,
        );
        expect(JSON.stringify(saved.data)).toContain('"mid:1"');

        if (restart) await c.stop("SIGKILL");
        const stable = (await replicaSets(ns)).find((r) => r.metadata.labels?.["ramp.dev/pod-template-hash"] === stableHash);
        if (!stable) throw new Error("no stable ReplicaSet");
        await kube().delete("apps/v1", "ReplicaSet", stable.metadata.name, ns);
        if (restart) c = await start();

        const back = await recreated(ns, stable);
        expect(back.metadata.labels?.["ramp.dev/pod-template-hash"]).toBe(stableHash);
        expect(back.metadata.annotations?.["ramp.dev/revision"]).toBe(stable.metadata.annotations?.["ramp.dev/revision"]);
        expect(back.spec.template.spec).toMatchObject({ containers: [{ image: "mid:1" }] });
        // Behind a router stable keeps every pod.
        expect(await podsByHash(ns, "mid")).toEqual({ [stableHash]: 4, [canaryHash]: 1 });
        const whole = await waitForRollout(
          ns,
          "mid",
          "paused at 20% with the stable pods available again",
          (s) => s.phase === "Paused" && s.availableReplicas === 5 && !s.conditions?.some((x) => x.type === "ReplicaFailure"),
          LONG,
        );
        expect([whole.currentStepIndex, whole.stableRS, whole.canary?.weights?.canary.weight]).toEqual([1, stableHash, 20]);
        expect(await routeWeights(ns, "mid")).toEqual(weights);
        expect(await eventReasons(ns, "mid")).toContain("StableReplicaSetRecreated");

        expect((await ramp("promote", "mid", "-n", ns)).code).toBe(0);
        await waitForRollout(
          ns,
          "mid",
          "healthy at revision 2",
          (s) => s.phase === "Healthy" && s.stableRS === canaryHash && s.availableReplicas === 4,
          LONG,
        );
        expect(await routeWeights(ns, "mid")).toEqual({ "mid-stable": 100, "mid-canary": 0 });
      } finally {
        await c.stop();
      }
    },
    6 * LONG,
  );
});
