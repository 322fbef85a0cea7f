// Namespace boundaries: a Rollout changes an HTTPRoute of another namespace only when a Gateway API
// ReferenceGrant there allows it; otherwise it is InvalidSpec and the other namespace's route is
// never written.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { kube, namespace } from "./helpers.ts";
import { rollout, service, setImage, startController, waitForRollout } from "./rollouts.ts";

const INSTANCE = `namespaces-${randomBytes(3).toString("hex")}`;

type Route = KubeObject & { spec: { rules: { backendRefs: { name: string; port?: number; weight?: number }[] }[] } };

const route = (ns: string, name: string): Route => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name, namespace: ns },
  spec: {
    rules: [
      {
        backendRefs: [
          // The upstream schema's CEL rule: a Service reference needs its port.
          { name: `${name}-stable`, port: 80, weight: 100 },
          { name: `${name}-canary`, port: 80, weight: 0 },
        ],
      },
    ],
  },
});

/** A canary Rollout in `tenant` routing through the HTTPRoute `name` of `routes`. */
async function routedRollout(tenant: string, routes: string, name: string): Promise<void> {
  await kube().create(service(tenant, `${name}-stable`, name));
  await kube().create(service(tenant, `${name}-canary`, name));
  await kube().create(
    rollout(
      tenant,
      name,
      {
        replicas: 2,
        strategy: {
          canary: {
            stableService: `${name}-stable`,
            canaryService: `${name}-canary`,
            trafficRouting: { gatewayAPI: { httpRoute: name, namespace: routes } },
            steps: [{ setWeight: 50 }, { pause: {} }],
          },
        },
      },
      { "ramp.dev/controller-instance-id": INSTANCE },
    ),
  );
}

const weights = async (ns: string, name: string) =>
  (await kube().get<Route>("gateway.networking.k8s.io/v1", "HTTPRoute", name, ns)).spec.rules[0]?.backendRefs.map(
    (b) => b.weight,
  );

describe("namespace boundaries", () => {
  it("an HTTPRoute of another namespace is refused without a ReferenceGrant, and routed with one", async () => {
    const tenant = await namespace("tenant");
    const other = await namespace("other");
    const c = await startController(["--instance-id", INSTANCE]);
    try {
      const refused = await kube().create(route(other, "refused"));
      await routedRollout(tenant, other, "refused");
      const status = await waitForRollout(tenant, "refused", "InvalidSpec", (s) =>
        (s.conditions ?? []).some((x) => x.type === "InvalidSpec" && x.status === "True"),
      );
      const message = status.conditions?.find((x) => x.type === "InvalidSpec")?.message ?? "";
      expect(message).toContain(`HTTPRoute "refused" is in namespace "${other}"`);
      expect(message).toContain("ReferenceGrant");
      const after = await kube().get<Route>("gateway.networking.k8s.io/v1", "HTTPRoute", "refused", other);
      expect(after.metadata.resourceVersion).toBe(refused.metadata.resourceVersion);

      await kube().create({
        apiVersion: "gateway.networking.k8s.io/v1beta1",
        kind: "ReferenceGrant",
        metadata: { name: "rollouts-of-tenant", namespace: other },
        spec: {
          from: [{ group: "ramp.dev", kind: "Rollout", namespace: tenant }],
          to: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "granted" }],
        },
      });
      await kube().create(route(other, "granted"));
      await routedRollout(tenant, other, "granted");
      await waitForRollout(tenant, "granted", "first revision healthy", (s) => s.phase === "Healthy", 60_000);
      await setImage(tenant, "granted", "granted:2");
      await waitForRollout(tenant, "granted", "paused at 50%", (s) => s.phase === "Paused", 60_000);
      expect(await weights(other, "granted")).toEqual([50, 50]);
      // The grant names one route: the first stays refused and untouched.
      expect(await weights(other, "refused")).toEqual([100, 0]);
    } finally {
      await c.stop();
    }
  }, 180_000);
});
