// ObjectCaches on a fake apiserver (with watches): the first read of a kind goes to the apiserver and
// starts its cache; once filled, reads ask nothing; a change made by another writer tells whoever read
// the object, our own write and a resync do not, and a writer undoing ours again and again is answered
// with backoff; a deleted object and a forgotten reader are dropped; a kind the cluster does not serve
// is an error, asked again later; a refused list shows in problems and is counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "./client.ts";
import { FakeApiserver } from "./fake-apiserver.ts";
import { nextWake, ObjectCaches, type ObjectCachesOptions, WAKE_BACKOFF, type Wakes, wakeDelay } from "./object-caches.ts";

const GV = "gateway.networking.k8s.io/v1";
const HTTPROUTES = { apiVersion: GV, kind: "HTTPRoute", plural: "httproutes" };
const route = (name: string, namespace = "ns", hostnames: string[] = [], generation = 1): KubeObject => ({
  apiVersion: GV,
  kind: "HTTPRoute",
  metadata: { name, namespace, generation },
  spec: { hostnames },
});

describe("nextWake", () => {
  const { baseMs, maxMs, quietMs } = WAKE_BACKOFF;
  const at = (streak: number, dueAt: number): Wakes => ({ streak, dueAt });
  it.each([
    { name: "a first rival change wakes at once", last: undefined, rival: true, now: 1_000, delay: 0, streak: 0 },
    { name: "another soon after waits the base delay", last: at(0, 1_000), rival: true, now: 1_050, delay: baseMs, streak: 1 },
    { name: "and doubles while they go on", last: at(3, 1_000), rival: true, now: 1_050, delay: baseMs * 8, streak: 4 },
    { name: "up to the maximum", last: at(40, 1_000), rival: true, now: 1_050, delay: maxMs, streak: 41 },
    { name: "a quiet spell starts over", last: at(5, 1_000), rival: true, now: 1_000 + quietMs, delay: 0, streak: 0 },
    { name: "any other change wakes at once", last: undefined, rival: false, now: 1_000, delay: 0, streak: undefined },
    { name: "but not before a wake put off", last: at(2, 1_200), rival: false, now: 1_000, delay: 200, streak: 2 },
    { name: "nor resets the streak", last: at(2, 1_000), rival: false, now: 9_000, delay: 0, streak: 2 },
  ])("$name", ({ last, rival, now, delay, streak }) => {
    const next = nextWake(last, rival, now);
    expect(wakeDelay(next, now)).toBe(delay);
    expect(next?.streak).toBe(streak);
  });
});

describe("ObjectCaches", () => {
  let apiserver: FakeApiserver;
  let caches: ObjectCaches;
  /** [reader, delayMs], as told. */
  const told: [string, number][] = [];
  let clock = 0;
  beforeAll(async () => {
    apiserver = await new FakeApiserver([HTTPROUTES]).start();
    apiserver.put(route("web"), route("api"), route("edge", "other"), route("sentinel"));
    caches = new ObjectCaches(apiserver.client(), { onChange: (...t) => told.push(t), now: () => clock });
  });
  afterAll(async () => {
    caches.stop();
    await apiserver.stop();
  });
  const gets = () => apiserver.calls.filter((c) => c.startsWith("GET ")).length;
  const toldOf = (reader: string) => told.filter(([r]) => r === reader).map(([, delay]) => delay);
  /** Everything the watch brought before a change made now has been handled: its events come in order. */
  const drained = async () => {
    const reader = `sentinel-${told.length}`;
    await caches.readerFor(reader).get(GV, "HTTPRoute", "sentinel", "ns");
    apiserver.put(route("sentinel", "ns", [reader]));
    await expect.poll(() => toldOf(reader)).toEqual([0]);
  };
  const client = () => apiserver.client();
  /** Our write, as a router makes it: over the version read, remembered. */
  const write = async (name: string, reader: string, hostnames: string[], generation: number) => {
    const current = await client().get(GV, "HTTPRoute", name, "ns");
    const spec = { hostnames };
    caches
      .readerFor(reader)
      .remember(await client().replace({ ...current, metadata: { ...current.metadata, generation }, spec }));
  };

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
    await caches.readerFor("ns/api-rollout").get(GV, "HTTPRoute", "api", "ns");
    await write("api", "ns/api-rollout", ["ours"], 1);
    // Another writer's change (a Gateway reporting on the route: the generation stays).
    apiserver.put({ ...route("api", "ns", ["ours"]), status: { parents: [] } });
    await expect.poll(() => toldOf("ns/api-rollout")).toEqual([0]);
  });

  it("a resync (the same resourceVersion again) tells no one", async () => {
    await caches.readerFor("ns/resynced").get(GV, "HTTPRoute", "web", "ns");
    const current = apiserver.object(GV, "HTTPRoute", "web", "ns") as KubeObject;
    // What a resync reports: every object as MODIFIED, unchanged.
    apiserver.put(current);
    await drained();
    expect(toldOf("ns/resynced")).toEqual([]);
  });

  it("a writer that keeps undoing our writes wakes the reader with backoff; a quiet spell starts over", async () => {
    apiserver.put(route("fought"));
    // Read once the cache has it: a read racing the object's arrival may be told of it.
    await drained();
    const reader = "ns/fighter";
    await caches.readerFor(reader).get(GV, "HTTPRoute", "fought", "ns");
    let generation = 1;
    const round = async () => {
      await write("fought", reader, ["ours"], ++generation);
      apiserver.put(route("fought", "ns", ["theirs"], ++generation));
      const before = toldOf(reader).length;
      await expect.poll(() => toldOf(reader).length).toBe(before + 1);
    };
    for (const _ of [1, 2, 3, 4]) await round();
    expect(toldOf(reader)).toEqual([0, 100, 200, 400]);
    // A Gateway's status on what they wrote: no earlier than the wake put off.
    apiserver.put({ ...route("fought", "ns", ["theirs"], generation), status: { parents: [] } });
    await expect.poll(() => toldOf(reader).length).toBe(5);
    expect(toldOf(reader)[4]).toBe(400);
    clock += 400 + WAKE_BACKOFF.quietMs;
    await round();
    expect(toldOf(reader)[5]).toBe(0);
  });

  it("a deleted object is told of and dropped: its readers are not told of a new one by that name", async () => {
    apiserver.put(route("gone"));
    await drained();
    await caches.readerFor("ns/gone-rollout").get(GV, "HTTPRoute", "gone", "ns");
    await client().delete(GV, "HTTPRoute", "gone", "ns");
    await expect.poll(() => toldOf("ns/gone-rollout")).toEqual([0]);
    apiserver.put(route("gone"));
    await drained();
    expect(toldOf("ns/gone-rollout")).toEqual([0]);
  });

  it("a forgotten reader is told of nothing it read", async () => {
    await caches.readerFor("ns/deleted-rollout").get(GV, "HTTPRoute", "web", "ns");
    await caches.readerFor("ns/deleted-rollout").list(GV, "HTTPRoute", "ns");
    caches.forgetReader("ns/deleted-rollout");
    apiserver.put(route("web", "ns", ["changed"]));
    await drained();
    expect(toldOf("ns/deleted-rollout")).toEqual([]);
  });

  it("caches drop managedFields but keep kubectl's last-applied annotation (routers PUT these back)", async () => {
    const applied = { "kubectl.kubernetes.io/last-applied-configuration": "{}" };
    const heavy = route("heavy");
    apiserver.put({ ...heavy, metadata: { ...heavy.metadata, annotations: applied, managedFields: [{ manager: "kubectl" }] } });
    await drained();
    const cached = await caches.readerFor("ns/heavy").get(GV, "HTTPRoute", "heavy", "ns");
    expect(cached?.metadata).not.toHaveProperty("managedFields");
    expect(cached?.metadata.annotations).toEqual(applied);
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

describe("ObjectCaches whose list is refused", () => {
  it("name the refusal in problems and count it as a watch failure, until the list works", async () => {
    const apiserver = await new FakeApiserver([HTTPROUTES]).start();
    const failures: string[] = [];
    const opts: ObjectCachesOptions = { onWatchFailure: (kind) => failures.push(kind) };
    const caches = new ObjectCaches(apiserver.client(), opts);
    try {
      apiserver.put(route("web"));
      apiserver.refuse("/apis/gateway.networking.k8s.io/v1/httproutes", 403);
      // Read from the apiserver meanwhile: only the cache's list is refused.
      expect((await caches.readerFor("ns/web").get(GV, "HTTPRoute", "web", "ns"))?.metadata.name).toBe("web");
      await expect.poll(() => caches.problems).toEqual(["refused /apis/gateway.networking.k8s.io/v1/httproutes"]);
      expect(failures).toEqual(["HTTPRoute"]);
      apiserver.allow("/apis/gateway.networking.k8s.io/v1/httproutes");
      await expect.poll(() => caches.problems, { timeout: 10_000 }).toEqual([]);
    } finally {
      caches.stop();
      await apiserver.stop();
    }
  });
});
