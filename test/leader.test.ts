// Two controller replicas behind one Lease: only the leader reconciles and writes; when it is killed
// the standby takes over within the lease duration and the rollout in flight completes.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import { ramp, reconciles, rollout, setImage, startController, waitForRollout } from "./rollouts.ts";

type Lease = KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } };
type Event = KubeObject & { involvedObject: { name: string }; reportingInstance?: string };

const LEASE_S = 4;

describe("leader election", () => {
  it("only the leader writes; killing it hands over within the lease duration and the rollout completes", async () => {
    const ns = await namespace("leader");
    const common = ["--namespace", ns, "--leader-election-namespace", ns, "--lease-duration", `${LEASE_S}s`];
    const timing = ["--renew-deadline", "3s", "--retry-period", "500ms"];
    const a = await startController([...common, ...timing, "--identity", "replica-a"]);
    const holder = async () =>
      (await kube().get<Lease>("coordination.k8s.io/v1", "Lease", "ramp-controller", ns)).spec.holderIdentity;
    await eventually("replica-a leads", async () => (await holder()) === "replica-a");
    const b = await startController([...common, ...timing, "--identity", "replica-b"]);
    try {
      await kube().create(
        rollout(ns, "duo", { replicas: 3, strategy: { canary: { steps: [{ setWeight: 34 }, { pause: {} }] } } }),
      );
      await waitForRollout(ns, "duo", "healthy", (s) => s.phase === "Healthy");
      await setImage(ns, "duo", "duo:2");
      await waitForRollout(ns, "duo", "paused", (s) => s.phase === "Paused");

      expect(await reconciles(a.url)).toBeGreaterThan(0);
      expect(await reconciles(b.url)).toBe(0);
      const events = (await kube().list<Event>("v1", "Event", ns)).filter((e) => e.involvedObject.name === "duo");
      expect(new Set(events.map((e) => e.reportingInstance))).toEqual(new Set(["replica-a"]));
      expect((await fetch(`${b.url}/readyz`)).status).toBe(200); // a standby is ready to take over

      await a.stop("SIGKILL");
      const killedAt = Date.now();
      await eventually("replica-b leads", async () => (await holder()) === "replica-b", 3 * LEASE_S * 1000);
      const handover = (Date.now() - killedAt) / 1000;
      console.log(`handover after SIGKILL: ${handover.toFixed(1)}s (lease ${LEASE_S}s)`);
      // The lease runs out LEASE_S after the last renewal, and b checks every retry period (500ms).
      expect(handover).toBeLessThanOrEqual(LEASE_S + 1.5);

      expect((await ramp("promote", "duo", "-n", ns)).code).toBe(0);
      await waitForRollout(ns, "duo", "healthy at v2", (s) => s.phase === "Healthy" && s.stableRS === s.currentPodHash);
      expect(await reconciles(b.url)).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
