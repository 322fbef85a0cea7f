// The observe step on a fake apiserver: an object the caches have not seen yet is read once before
// the spec is called invalid; a 404 makes it invalid, any other refusal fails the reconcile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from "../../api/pod-template-hash.ts";
import type { ReplicaSetObject } from "../objects.ts";
import { gatewaySpec, httpRoute, rolloutObject, type ShellFixture, shellFixture, spec } from "./fixtures.ts";
import { observe } from "./observe.ts";
import { routerOf } from "./routing.ts";

const canarySpec = (canary: Record<string, unknown>) => spec({ canary: { steps: [{ setWeight: 50 }], ...canary } });

describe("observe on a cache that has not seen an object yet", () => {
  let f: ShellFixture;
  // A fresh fixture per case: empty caches, as a controller just started.
  const fixtures: ShellFixture[] = [];
  const fresh = async () => {
    const made = await shellFixture();
    made.apiserver.put(
      { apiVersion: "v1", kind: "Service", metadata: { name: "web-stable", namespace: "ns", resourceVersion: "7" }, spec: {} },
      { apiVersion: API_VERSION, kind: "AnalysisTemplate", metadata: { name: "http-slo", namespace: "ns" }, spec: {} },
    );
    made.apiserver.refuse("/api/v1/namespaces/ns/services/web-secret", 403);
    fixtures.push(made);
    return made;
  };
  const observeWith = (x: ShellFixture, canary: Record<string, unknown>) =>
    observe(x.ctx, rolloutObject(canarySpec(canary)), canarySpec(canary), new Date("2026-12-02T00:00:00Z"));

  beforeAll(async () => {
    f = await fresh();
  });
  afterAll(() => Promise.all(fixtures.map((x) => x.apiserver.stop())));

  it.each([
    ["a Service the apiserver has", { stableService: "web-stable" }, undefined],
    ["a Service it has not", { stableService: "web-gone" }, 'Service "web-gone" not found'],
    ["an AnalysisTemplate it has", { analysis: { templates: [{ templateName: "http-slo" }] } }, undefined],
    [
      "a ClusterAnalysisTemplate it has not",
      { analysis: { templates: [{ templateName: "nope", clusterScope: true }] } },
      'ClusterAnalysisTemplate "nope" not found',
    ],
  ])("%s: invalidSpec is %s", async (_, canary, invalidSpec) => {
    const { observed } = await observeWith(await fresh(), canary);
    expect(observed.invalidSpec).toEqual(invalidSpec);
  });

  it("remembers what it read, so the next reconcile asks nothing", async () => {
    const first = await observeWith(f, { stableService: "web-stable" });
    expect(first.observed.services).toEqual({ "web-stable": null });
    expect(f.ctx.caches.services.get("ns/web-stable")?.metadata.resourceVersion).toBe("7");
    const asked = f.apiserver.requests.length;
    expect(asked).toBeGreaterThan(0);
    await observeWith(f, { stableService: "web-stable" });
    expect(f.apiserver.requests.length).toBe(asked);
  });

  it("fails the reconcile (retried with backoff) on a refusal other than 404, never calling the spec invalid", async () => {
    await expect(observeWith(f, { stableService: "web-secret" })).rejects.toMatchObject({ status: 403 });
  });
});

describe("observe a routed canary: the canary Service's ready endpoints of this revision", () => {
  const routed = gatewaySpec();
  const hash = podTemplateHash(routed.template as Parameters<typeof podTemplateHash>[0]);
  const service = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "ns" }, spec: {} });
  const slice = (pods: string[]) => ({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-canary-x1", namespace: "ns", labels: { "kubernetes.io/service-name": "web-canary" } },
    endpoints: pods.map((name) => ({ conditions: { ready: true }, targetRef: { kind: "Pod", name } })),
  });
  const replicaSet = (h: string, uid = "u1"): ReplicaSetObject => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name: `web-${h}`,
      namespace: "ns",
      labels: { app: "web", [POD_TEMPLATE_HASH_LABEL]: h },
      ownerReferences: [{ apiVersion: API_VERSION, kind: "Rollout", name: "web", uid, controller: true }],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "web" } },
      template: routed.template as ReplicaSetObject["spec"]["template"],
    },
  });
  let f: ShellFixture;
  beforeAll(async () => {
    f = await shellFixture();
    f.apiserver.put(service("web-stable"), service("web-canary"), httpRoute());
  });
  afterAll(() => f.apiserver.stop());

  const observed = async (status: Record<string, unknown> = { stableRS: "old" }) => {
    const rollout = { ...rolloutObject(routed), status };
    return (await observe(f.ctx, rollout, routed, new Date("2026-12-02T00:00:00Z"), routerOf(f.ctx, rollout))).observed;
  };

  it("counts the revision's ready pods in the canary Service's slices, not the old revision's", async () => {
    f.ctx.caches.replicaSets.remember(replicaSet("old"));
    expect((await observed()).canaryEndpoints).toBeUndefined(); // no ReplicaSet of this revision yet
    f.ctx.caches.replicaSets.remember(replicaSet(hash));
    expect((await observed()).canaryEndpoints).toBe(0);
    f.apiserver.put(slice(["web-old-abcde", `web-${hash}-abcde`]));
    expect((await observed()).canaryEndpoints).toBe(1);
    // Once the revision is stable there is no canary to wait for: nothing is read.
    const slicesRead = () => f.apiserver.calls.filter((c) => c.includes("endpointslices")).length;
    const before = slicesRead();
    expect((await observed({ stableRS: hash })).canaryEndpoints).toBeUndefined();
    expect(slicesRead()).toBe(before);
  });
});
