import { describe, expect, it } from "vitest";
import type { KubeClient, KubeObject } from "./client.ts";
import { type ChangeType, Informer } from "./informer.ts";

/** A client whose list answers what `items` holds now and whose watch stays silent until stopped:
 * the half-open connection a resync is there for. */
function silentClient(items: () => KubeObject[]): KubeClient {
  return {
    path: async () => "/api/v1/namespaces/ns/configmaps",
    request: async () => ({ items: items(), metadata: { resourceVersion: "1" } }),
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
  it.each([
    { name: "an unchanged object is reported again", later: [cm("a", "1")], seen: ["ADDED a", "MODIFIED a"] },
    { name: "a change the silent watch missed shows up", later: [cm("a", "2")], seen: ["ADDED a", "MODIFIED a"] },
    { name: "a deletion the silent watch missed shows up", later: [], seen: ["ADDED a", "DELETED a"] },
  ])("$name", async ({ later, seen }) => {
    let items = [cm("a", "1")];
    const events: string[] = [];
    const informer = new Informer(
      silentClient(() => items),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        resyncMs: 20,
        onChange: (type: ChangeType, o) => events.push(`${type} ${o.metadata.name}`),
      },
    );
    await informer.start();
    items = later;
    await expect.poll(() => events.length, { timeout: 2_000 }).toBeGreaterThanOrEqual(2);
    informer.stop();
    expect(events.slice(0, 2)).toEqual(seen);
    expect(informer.list().map((o) => o.metadata.resourceVersion)).toEqual(later.map((o) => o.metadata.resourceVersion));
  });
});
