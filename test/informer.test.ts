// The informer on the real apiserver: the cache follows creates, updates and deletes.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { Informer } from "../src/kube/informer.ts";
import { eventually, kube, namespace } from "./helpers.ts";

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe("Informer", () => {
  it("lists, then follows creates, updates and deletes through the watch", async () => {
    const ns = await namespace("inf");
    const cm = (name: string, value: string): ConfigMap => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns },
      data: { v: value },
    });
    await kube().create(cm("before", "1"));
    const changes: string[] = [];
    const informer = new Informer<ConfigMap>(kube(), {
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: ns,
      onChange: (type, obj) => changes.push(`${type} ${obj.metadata.name}`),
    });
    await informer.start();
    try {
      expect(informer.hasSynced).toBe(true);
      expect(informer.get(`${ns}/before`)?.data).toEqual({ v: "1" });
      await kube().create(cm("after", "1"));
      await kube().apply(cm("before", "2"), { force: true });
      await kube().delete("v1", "ConfigMap", "after", ns);
      await eventually(
        "the watch events",
        async () => changes.includes("DELETED after") && informer.get(`${ns}/before`)?.data?.v === "2",
      );
      expect(informer.get(`${ns}/after`)).toBeUndefined();
      expect(changes.filter((c) => !c.includes("kube-root-ca"))).toEqual([
        "ADDED before",
        "ADDED after",
        "MODIFIED before",
        "DELETED after",
      ]);
    } finally {
      informer.stop();
    }
  });
});
