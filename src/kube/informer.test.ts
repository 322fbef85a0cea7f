import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "./client.ts";
import { type ChangeType, Informer, watchTimeoutSeconds, withoutBookkeeping, withoutManagedFields } from "./informer.ts";

/** A client whose list answers `items` (counting the lists) and whose watch stays silent until stopped. */
function silentClient(items: KubeObject[], lists: { count: number }): KubeClient {
  return {
    path: async () => "/api/v1/namespaces/ns/configmaps",
    request: async () => {
      lists.count++;
      return { items, metadata: { resourceVersion: "1" } };
    },
    watch: (_path: string, _onEvent: unknown, signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
  } as unknown as KubeClient;
}

const cm = (name: string, rv: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

describe("Informer resync", () => {
  it("reports every cached object again as MODIFIED, from the cache: no list after the first", async () => {
    const lists = { count: 0 };
    const events: string[] = [];
    const informer = new Informer(silentClient([cm("a", "1"), cm("b", "1")], lists), {
      apiVersion: "v1",
      kind: "ConfigMap",
      resyncMs: 20,
      onChange: (type: ChangeType, o) => events.push(`${type} ${o.metadata.name}`),
    });
    await informer.start();
    await expect.poll(() => events.length, { timeout: 2_000 }).toBeGreaterThanOrEqual(6);
    informer.stop();
    expect(events.slice(0, 6)).toEqual(["ADDED a", "ADDED b", "MODIFIED a", "MODIFIED b", "MODIFIED a", "MODIFIED b"]);
    expect(lists.count).toBe(1);
  });

  it.each([
    [0, 300],
    [0.5, 450],
    [0.999, 599],
  ])("the apiserver is asked to end a watch after 5 to 10 minutes (random %s: %ss)", (random, seconds) => {
    expect(watchTimeoutSeconds(random)).toBe(seconds);
  });
});

describe("withoutBookkeeping", () => {
  const applied = "kubectl.kubernetes.io/last-applied-configuration";
  const heavy = (name: string, rv: string): KubeObject => ({
    ...cm(name, rv),
    metadata: {
      name,
      namespace: "ns",
      resourceVersion: rv,
      managedFields: [{ manager: "kubectl", operation: "Update", fieldsV1: { "f:data": {} } }],
      annotations: { [applied]: '{"big":"copy"}', keep: "me" },
    },
  });
  const bare = (o: KubeObject | undefined) =>
    o && { managed: "managedFields" in o.metadata, annotations: o.metadata.annotations };
  const stripped = { managed: false, annotations: { keep: "me" } };

  it.each([
    {
      name: "an object without either is left as it is",
      strip: withoutBookkeeping,
      input: cm("a", "1"),
      expected: { managed: false, annotations: undefined },
    },
    { name: "both are dropped, other annotations kept", strip: withoutBookkeeping, input: heavy("a", "1"), expected: stripped },
    {
      name: "withoutManagedFields keeps kubectl's annotation (objects PUT back whole)",
      strip: withoutManagedFields,
      input: heavy("a", "1"),
      expected: { managed: false, annotations: { [applied]: '{"big":"copy"}', keep: "me" } },
    },
  ])("$name", ({ strip, input, expected }) => {
    expect(bare(strip(input))).toEqual(expected);
  });

  it("is applied to what the list, the watch and remember() bring into the cache", async () => {
    let send: ((e: { type: string; object: KubeObject }) => void) | undefined;
    const told: unknown[] = [];
    const client = {
      path: async () => "/api/v1/namespaces/ns/configmaps",
      request: async () => ({ items: [heavy("listed", "1")], metadata: { resourceVersion: "1" } }),
      watch: (_path: string, onEvent: typeof send, signal: AbortSignal) => {
        send = onEvent;
        return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      },
    } as unknown as KubeClient;
    const informer = new Informer(client, {
      apiVersion: "v1",
      kind: "ConfigMap",
      resyncMs: 0,
      transform: withoutBookkeeping,
      onChange: (_t, o) => told.push(bare(o)),
    });
    await informer.start();
    await expect.poll(() => send !== undefined).toBe(true);
    send?.({ type: "ADDED", object: heavy("watched", "2") });
    informer.remember(heavy("written", "3"));
    informer.stop();
    expect(["listed", "watched", "written"].map((n) => bare(informer.get(`ns/${n}`)))).toEqual([stripped, stripped, stripped]);
    expect(told).toEqual([stripped, stripped]);
  });
});

describe("Informer indexers", () => {
  const owned = (name: string, rv: string, owner?: string): KubeObject => ({
    ...cm(name, rv),
    metadata: { name, namespace: "ns", resourceVersion: rv, ...(owner ? { labels: { owner } } : {}) },
  });
  const byOwner = (o: KubeObject) => (o.metadata.labels?.owner ? [o.metadata.labels.owner] : []);
  const names = (objs: KubeObject[]) => objs.map((o) => o.metadata.name).sort();

  it("follows an object as it is added, moved to another value, and forgotten", () => {
    const informer = new Informer({} as KubeClient, { apiVersion: "v1", kind: "ConfigMap", indexers: { owner: byOwner } });
    informer.remember(owned("a", "1", "x"));
    informer.remember(owned("b", "1", "x"));
    informer.remember(owned("c", "1"));
    expect(names(informer.byIndex("owner", "x"))).toEqual(["a", "b"]);
    informer.remember(owned("a", "2", "y"));
    expect([names(informer.byIndex("owner", "x")), names(informer.byIndex("owner", "y"))]).toEqual([["b"], ["a"]]);
    informer.remember(owned("a", "1", "x")); // older than the cached one: ignored, index unchanged
    expect(names(informer.byIndex("owner", "y"))).toEqual(["a"]);
    informer.forget(owned("b", "1", "x"));
    expect([names(informer.byIndex("owner", "x")), names(informer.byIndex("other", "x"))]).toEqual([[], []]);
  });
});
