// The observe step on a fake apiserver (127.0.0.1): an object the caches have not seen yet is read
// once before the spec is called invalid; a 404 makes it invalid, any other refusal fails the reconcile.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../api/group.ts";
import { rolloutSpec } from "../../api/rollout.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { Informer } from "../../kube/informer.ts";
import type { RolloutObject } from "../objects.ts";
import type { Caches } from "./context.ts";
import { observe } from "./observe.ts";

const [GROUP, VERSION] = API_VERSION.split("/");
const DISCOVERY: Record<string, unknown> = {
  "/api/v1": { resources: [{ name: "services", kind: "Service", namespaced: true }] },
  [`/apis/${GROUP}/${VERSION}`]: {
    resources: [
      { name: "analysistemplates", kind: "AnalysisTemplate", namespaced: true },
      { name: "clusteranalysistemplates", kind: "ClusterAnalysisTemplate", namespaced: false },
    ],
  },
};
// What the fake apiserver holds, by path; a path named in FORBIDDEN answers 403.
const OBJECTS: Record<string, unknown> = {
  "/api/v1/namespaces/ns/services/web-stable": {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web-stable", namespace: "ns", resourceVersion: "7" },
    spec: { selector: { app: "web" } },
  },
  [`/apis/${API_VERSION}/namespaces/ns/analysistemplates/http-slo`]: {
    apiVersion: API_VERSION,
    kind: "AnalysisTemplate",
    metadata: { name: "http-slo", namespace: "ns", resourceVersion: "8" },
    spec: {},
  },
};
const FORBIDDEN = new Set(["/api/v1/namespaces/ns/services/web-secret"]);

const spec = (canary: Record<string, unknown>) =>
  rolloutSpec.parse({
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "web:1" }] } },
    strategy: { canary: { steps: [{ setWeight: 50 }], ...canary } },
  });
const rollout: RolloutObject = {
  apiVersion: API_VERSION,
  kind: "Rollout",
  metadata: { name: "web", namespace: "ns", uid: "u1", generation: 1 },
  spec: {},
} as RolloutObject;

describe("observe on a cache that has not seen an object yet", () => {
  const gets: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "";
    if (!DISCOVERY[path]) gets.push(path);
    const found = DISCOVERY[path] ?? OBJECTS[path];
    const code = found ? 200 : FORBIDDEN.has(path) ? 403 : 404;
    const reason = { 200: "", 403: "Forbidden", 404: "NotFound" }[code];
    res.writeHead(code, { "content-type": "application/json" });
    res.end(JSON.stringify(found ?? { kind: "Status", code, reason, message: `${reason} ${path}` }));
  });
  let client: KubeClient;
  const caches = (): Caches => {
    const informer = <T extends KubeObject>(apiVersion: string, kind: string) => new Informer<T>(client, { apiVersion, kind });
    return {
      rollouts: informer("v1", "Rollout"),
      replicaSets: informer("apps/v1", "ReplicaSet"),
      revisions: informer("apps/v1", "ControllerRevision"),
      services: informer("v1", "Service"),
      analysisRuns: informer(API_VERSION, "AnalysisRun"),
      deployments: informer("apps/v1", "Deployment"),
      templates: informer(API_VERSION, "AnalysisTemplate"),
      clusterTemplates: informer(API_VERSION, "ClusterAnalysisTemplate"),
    } as Caches;
  };
  const observeWith = (c: Caches, canary: Record<string, unknown>) =>
    observe({ client, caches: c, log: () => undefined }, rollout, spec(canary), new Date("2026-12-02T00:00:00Z"));

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "ramp-observe-")), "config");
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "fake", cluster: { server: url, "insecure-skip-tls-verify": true } }],
        users: [{ name: "fake", user: {} }],
        contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
        "current-context": "fake",
      }),
    );
    client = new KubeClient({ kubeconfig, requestTimeoutMs: 10_000 });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

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
    const { observed } = await observeWith(caches(), canary);
    expect(observed.invalidSpec).toEqual(invalidSpec);
  });

  it("remembers what it read, so the next reconcile asks nothing", async () => {
    const c = caches();
    const before = gets.length;
    const first = await observeWith(c, { stableService: "web-stable" });
    expect(first.observed.services).toEqual({ "web-stable": null });
    expect(c.services.get("ns/web-stable")?.metadata.resourceVersion).toBe("7");
    const asked = gets.length;
    expect(asked).toBeGreaterThan(before);
    await observeWith(c, { stableService: "web-stable" });
    expect(gets.length).toBe(asked);
  });

  it("fails the reconcile (retried with backoff) on a refusal other than 404, never calling the spec invalid", async () => {
    await expect(observeWith(caches(), { stableService: "web-secret" })).rejects.toMatchObject({ status: 403 });
  });
});
