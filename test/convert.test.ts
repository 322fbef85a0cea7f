// `ramp convert` end to end: an Argo Rollout and a Flagger Canary converted by the CLI, applied to the
// dev cluster as converted, and walked through their steps to a completed rollout by the controller.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../src/kube/client.ts";
import { eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, runRamp, service, setImage, startController, waitForRollout } from "./rollouts.ts";

const CORPUS = join(import.meta.dirname, "convert-corpus");

/** Converts `text` with the CLI; the manifests it printed and its report. */
async function convert(text: string): Promise<{ code: number; objects: KubeObject[]; report: string }> {
  const file = join(mkdtempSync(join(tmpdir(), "ramp-convert-")), "in.yaml");
  writeFileSync(file, text);
  const { code, stdout, stderr } = await runRamp(["convert", "-f", file]);
  const objects = parseAllDocuments(stdout).map((d) => d.toJS() as KubeObject);
  return { code, objects, report: stderr.replaceAll(file, "in.yaml") };
}

type Route = KubeObject & { spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] } };
const weightOf = async (ns: string, route: string, backend: string) =>
  (await kube().get<Route>("gateway.networking.k8s.io/v1", "HTTPRoute", route, ns)).spec.rules[0]?.backendRefs.find(
    (b) => b.name === backend,
  )?.weight;

const httpRoute = (ns: string, name: string, stable: string, canary: string, port: number): KubeObject => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name, namespace: ns },
  spec: {
    parentRefs: [{ name: "gw" }],
    rules: [
      {
        backendRefs: [
          { name: stable, port, weight: 100 },
          { name: canary, port, weight: 0 },
        ],
      },
    ],
  },
});

const FLAGGER = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: podinfo
  template:
    metadata:
      labels:
        app: podinfo
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:6.7.0
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: ${ns}
spec:
  provider: gatewayapi:v1
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  progressDeadlineSeconds: 120
  service:
    port: 9898
    targetPort: 9898
    hosts:
      - podinfo.example.com
    gatewayRefs:
      - name: gw
  analysis:
    interval: 5s
    threshold: 2
    stepWeight: 50
    maxWeight: 50
`;

describe("ramp convert, applied", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("convert");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns, "--no-notifications"]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it("an Argo canary on the Gateway API plugin: converted, applied, walked through its steps to 100%", async () => {
    const text = readFileSync(join(CORPUS, "argo-canary-gatewayapi.yaml"), "utf8").replaceAll(
      "namespace: shop",
      `namespace: ${ns}`,
    );
    const { code, objects, report } = await convert(text);
    expect(report).toMatch(/in\.yaml:29: Rollout\/checkout: .*useHeaderRoutes: not converted/);
    expect(code).toBe(1);
    for (const name of ["checkout-public", "checkout-internal"])
      await kube().create(httpRoute(ns, name, "checkout-stable", "checkout-canary", 80));
    await kube().create(service(ns, "checkout-stable", "checkout"));
    await kube().create(service(ns, "checkout-canary", "checkout"));
    for (const o of objects) await kube().create(o);
    const v1 = (await waitForRollout(ns, "checkout", "first revision healthy", (s) => s.phase === "Healthy")).stableRS;

    await setImage(ns, "checkout", "ghcr.io/example/checkout:3.3.0");
    await eventually("30% on the canary in both HTTPRoutes", async () => {
      const weights = await Promise.all(["checkout-public", "checkout-internal"].map((r) => weightOf(ns, r, "checkout-canary")));
      return weights.every((w) => w === 30);
    });
    const done = await waitForRollout(
      ns,
      "checkout",
      "the new revision healthy after both pauses",
      (s) => s.phase === "Healthy" && s.stableRS !== v1 && s.stableRS === s.currentPodHash,
      120_000,
    );
    expect(done.currentStepIndex).toBe(4);
    expect(await weightOf(ns, "checkout-public", "checkout-canary")).toBe(0);
  }, 240_000);

  it("a Flagger Gateway API canary: its Deployment adopted through workloadRef, its generated route walked to 50% and promoted", async () => {
    const { code, objects, report } = await convert(FLAGGER(ns));
    expect(report).toBe("");
    expect(code).toBe(0);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/podinfo",
      "Rollout/podinfo",
      "Service/podinfo",
      "Service/podinfo-primary",
      "Service/podinfo-canary",
      "HTTPRoute/podinfo",
    ]);
    for (const o of objects) await kube().create(o);
    const v1 = (await waitForRollout(ns, "podinfo", "the Deployment adopted", (s) => s.phase === "Healthy", 90_000)).stableRS;
    await eventually(
      "the Deployment scaled to zero (scaleDown: onsuccess)",
      async () =>
        (await kube().get<KubeObject & { spec: { replicas: number } }>("apps/v1", "Deployment", "podinfo", ns)).spec.replicas ===
        0,
      60_000,
    );

    await kube().patch("apps/v1", "Deployment", "podinfo", ns, {
      spec: { template: { spec: { containers: [{ name: "podinfod", image: "ghcr.io/stefanprodan/podinfo:6.7.1" }] } } },
    });
    await eventually("50% on podinfo-canary", async () => (await weightOf(ns, "podinfo", "podinfo-canary")) === 50, 60_000);
    await waitForRollout(
      ns,
      "podinfo",
      "the new revision promoted",
      (s) => s.phase === "Healthy" && s.stableRS !== v1 && s.stableRS === s.currentPodHash,
      90_000,
    );
    expect(await weightOf(ns, "podinfo", "podinfo-canary")).toBe(0);
  }, 240_000);
});
