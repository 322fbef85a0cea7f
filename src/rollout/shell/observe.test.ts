// The observe step on a fake apiserver: an object the caches have not seen yet is read once before
// the spec is called invalid; a 404 makes it invalid, any other refusal fails the reconcile.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import { rolloutObject, type ShellFixture, shellFixture, spec } from "./fixtures.ts";
import { observe } from "./observe.ts";

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
