// ObjectCaches on a fake apiserver (with watches): the first read of a kind goes to the apiserver and
// starts its cache; once filled, reads ask nothing; a change made by another writer tells whoever read
// the object, our own write does not; a kind the cluster does not serve is an error, asked again later.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "./client.ts";
import { FakeApiserver } from "./fake-apiserver.ts";
import { ObjectCaches } from "./object-caches.ts";

const GV = "gateway.networking.k8s.io/v1";
const route = (name: string, namespace = "ns", hostnames: string[] = []): KubeObject => ({
  apiVersion: GV,
  kind: "HTTPRoute",
  metadata: { name, namespace },
  spec: { hostnames },
});

describe("ObjectCaches", () => {
  let apiserver: FakeApiserver;
  let caches: ObjectCaches;
  const told: string[][] = [];
  beforeAll(async () => {
    apiserver = await new FakeApiserver([{ apiVersion: GV, kind: "HTTPRoute", plural: "httproutes" }]).start();
    apiserver.put(route("web"), route("api"), route("edge", "other"));
    caches = new ObjectCaches(apiserver.client(), { onChange: (readers) => told.push(readers) });
  });
  afterAll(async () => {
    caches.stop();
    await apiserver.stop();
  });
  const gets = () => apiserver.calls.filter((c) => c.startsWith("GET ")).length;

  it("reads from the apiserver until the cache is filled, then from the cache", async () => {
    const reader = caches.readerFor("ns/web");
    expect((await reader.get(GV, "HTTPRoute", "web", "ns"))?.metadata.name).toBe("web");
    await expect
      .poll(async () => {
        const before = gets();
        await reader.get(GV, "HTTPRoute", "web", "ns");
        return gets() - before;
      })
      .toBe(0);
    await expect.poll(() => apiserver.calls).toContain("WATCH /apis/gateway.networking.k8s.io/v1/httproutes");
    const before = gets();
    expect((await reader.list(GV, "HTTPRoute", "other")).map((o) => o.metadata.name)).toEqual(["edge"]);
    expect(gets()).toBe(before);
  });

  it("an object the cache has not seen is read from the apiserver; one that does not exist is undefined", async () => {
    const reader = caches.readerFor("ns/web");
    expect(await reader.get(GV, "HTTPRoute", "nope", "ns")).toBeUndefined();
    expect(apiserver.calls).toContain("GET /apis/gateway.networking.k8s.io/v1/namespaces/ns/httproutes/nope");
  });

  it("tells whoever read an object of another writer's change, not of our own write", async () => {
    const reader = caches.readerFor("ns/api-rollout");
    await reader.get(GV, "HTTPRoute", "api", "ns");
    // Our write: remembered with the resourceVersion it got, so its watch event tells no one.
    const client = apiserver.client();
    const current = await client.get(GV, "HTTPRoute", "api", "ns");
    reader.remember(await client.replace({ ...current, spec: { hostnames: ["ours"] } }));
    // Another writer's change (a Gateway reporting on the route).
    apiserver.put({ ...route("api", "ns", ["theirs"]), metadata: { name: "api", namespace: "ns" } });
    await expect.poll(() => told.flat()).toContain("ns/api-rollout");
    expect(told).toEqual([["ns/api-rollout"]]);
  });

  it("a kind the cluster does not serve is an error, every time it is asked for", async () => {
    const reader = caches.readerFor("ns/web");
    for (const _ of [1, 2]) {
      await expect(reader.get("split.smi-spec.io/v1alpha4", "TrafficSplit", "web", "ns")).rejects.toMatchObject({ status: 404 });
    }
  });

  it("caches of one namespace read other namespaces from the apiserver", async () => {
    const scoped = new ObjectCaches(apiserver.client(), { namespace: "ns" });
    try {
      const before = gets();
      expect((await scoped.readerFor("x").get(GV, "HTTPRoute", "edge", "other"))?.metadata.name).toBe("edge");
      expect(gets()).toBe(before + 1);
    } finally {
      scoped.stop();
    }
  });
});
