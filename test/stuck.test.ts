// No stuck states: what a Rollout needs to carry on is found again from the cluster.
import { describe, expect, it } from "vitest";
import { eventually, kube, namespace } from "./helpers.ts";
import { podsByHash, replicaSets, rollout, startController, waitForRollout } from "./rollouts.ts";

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
});
