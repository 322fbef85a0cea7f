// The finalizer step on a fake apiserver: a Rollout that routes traffic holds the finalizer; when it
// is deleted its route is released (all traffic to stable, none of Ramp's rules) before the
// finalizer goes, unless the route is gone already; any other failure keeps the finalizer, retried.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { RolloutObject } from "../objects.ts";
import { TRAFFIC_FINALIZER } from "./context.ts";
import { ensureFinalizer, finalize } from "./finalize.ts";
import { gatewaySpec, httpRoute, rolloutObject, routeShape, type ShellFixture, shellFixture, spec } from "./fixtures.ts";

const ROUTE = "/apis/gateway.networking.k8s.io/v1/namespaces/ns/httproutes/web";
const ROLLOUT = `/apis/${API_VERSION}/namespaces/ns/rollouts/web`;
/** The route mid-rollout: half the traffic to the canary, and one of Ramp's header rules. */
const managedRoute = (): KubeObject => ({
  ...httpRoute(),
  spec: {
    rules: [
      { name: "ramp-managed-beta", backendRefs: [{ name: "web-canary", port: 80 }] },
      {
        backendRefs: [
          { name: "web-stable", port: 80, weight: 50 },
          { name: "web-canary", port: 80, weight: 50 },
        ],
      },
    ],
  },
});

describe("the finalizer step", () => {
  let f: ShellFixture;
  /** The Rollout as stored, deleted: finalizers keep it until the step lets it go. */
  const deleted = (): RolloutObject => {
    const stored = rolloutObject(gatewaySpec(), {
      finalizers: [TRAFFIC_FINALIZER, "example.com/other"],
      deletionTimestamp: "2026-12-02T00:00:00Z",
    });
    f.apiserver.put({ ...stored, status: { stableRS: "h1", currentPodHash: "h2" } } as RolloutObject);
    return f.apiserver.object<RolloutObject>(API_VERSION, "Rollout", "web", "ns") as RolloutObject;
  };
  const finalizers = () => f.apiserver.object<RolloutObject>(API_VERSION, "Rollout", "web", "ns")?.metadata.finalizers;
  beforeAll(async () => {
    f = await shellFixture();
  });
  afterAll(() => f.apiserver.stop());

  it.each<{ name: string; rollout: () => RolloutObject; patched: boolean }>([
    { name: "a routed Rollout without the finalizer gets it", rollout: () => rolloutObject(gatewaySpec()), patched: true },
    {
      name: "one that holds it already is left alone",
      rollout: () => rolloutObject(gatewaySpec(), { finalizers: [TRAFFIC_FINALIZER] }),
      patched: false,
    },
    { name: "a Rollout without a router needs none", rollout: () => rolloutObject(spec()), patched: false },
  ])("$name", async ({ rollout, patched }) => {
    const r = rollout();
    f.apiserver.put(r);
    const before = f.apiserver.requests.length;
    expect(await ensureFinalizer(f.ctx, f.apiserver.object(API_VERSION, "Rollout", "web", "ns") as RolloutObject)).toBe(patched);
    expect(f.apiserver.calls.slice(before)).toEqual(patched ? [`PATCH ${ROLLOUT}`] : []);
    if (patched) expect(finalizers()).toEqual([TRAFFIC_FINALIZER]);
  });

  it("releases the route, then lets the Rollout go, keeping others' finalizers", async () => {
    f.apiserver.put(managedRoute());
    await finalize(f.ctx, deleted());
    expect(routeShape(f.apiserver.object("gateway.networking.k8s.io/v1", "HTTPRoute", "web", "ns"))).toEqual({
      weights: { "web-stable": 100, "web-canary": 0 },
      managed: [],
    });
    expect(finalizers()).toEqual(["example.com/other"]);
  });

  it("a route that is gone has nothing to restore: the finalizer goes, with a log line", async () => {
    f.apiserver.refuse(ROUTE, 404);
    try {
      await finalize(f.ctx, deleted());
    } finally {
      f.apiserver.allow(ROUTE);
    }
    expect(finalizers()).toEqual(["example.com/other"]);
    expect(f.logged.at(-1)).toMatch(/deleted; its routes are gone: HTTPRoute "web" not found/);
  });

  it("any other failure keeps the finalizer and fails the reconcile, to be retried", async () => {
    f.apiserver.refuse(ROUTE, 500);
    try {
      await expect(finalize(f.ctx, deleted())).rejects.toMatchObject({ status: 500 });
    } finally {
      f.apiserver.allow(ROUTE);
    }
    expect(finalizers()).toEqual([TRAFFIC_FINALIZER, "example.com/other"]);
  });

  it("a finalizer list that changed meanwhile fails the patch (resourceVersion), never dropping another's", async () => {
    f.apiserver.put(managedRoute());
    const stale = deleted();
    // Another writer adds a finalizer after the step read the Rollout.
    f.apiserver.put({
      ...stale,
      metadata: { ...stale.metadata, resourceVersion: "9999", finalizers: [TRAFFIC_FINALIZER, "x/y"] },
    });
    await expect(finalize(f.ctx, stale)).rejects.toMatchObject({ status: 409 });
    expect(finalizers()).toEqual([TRAFFIC_FINALIZER, "x/y"]);
  });
});
