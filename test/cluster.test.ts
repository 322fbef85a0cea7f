// The dev cluster is real Kubernetes: CRDs, CEL validation, the ReplicaSet controller, kwok pods,
// and nothing left behind or listening beyond loopback.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { readState } from "../src/dev/cluster.ts";
import { isAlive } from "../src/dev/processes.ts";
import { ROUTING_CRDS } from "../src/dev/routing-crds.ts";
import type { DevCluster } from "../src/dev/up.ts";
import { KubeError, type KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";

const run = promisify(execFile);

type WithConditions = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

const rollout = (ns: string, steps: unknown[]): KubeObject => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "Rollout",
  metadata: { name: "web", namespace: ns },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
    strategy: { canary: { steps } },
  },
});

/** Listening TCP sockets of a process, as `ss` reports them. */
async function listeningAddresses(pid: number): Promise<string[]> {
  const { stdout } = await run("ss", ["-ltnpH"]);
  return stdout
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => l.trim().split(/\s+/)[3] ?? "");
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe("dev cluster", () => {
  it("serves Ramp's CRDs and the routers' upstream CRDs, Established", async () => {
    const crds = await kube().list<WithConditions>("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    const established = crds
      .filter((c) => c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True"))
      .map((c) => c.metadata.name);
    expect(established).toEqual(
      expect.arrayContaining([
        "rollouts.ramp.dev",
        "analysistemplates.ramp.dev",
        "clusteranalysistemplates.ramp.dev",
        "analysisruns.ramp.dev",
        ...ROUTING_CRDS,
      ]),
    );
    const httpRoutes = crds.find((c) => c.metadata.name === "httproutes.gateway.networking.k8s.io");
    expect(httpRoutes?.metadata.annotations).toMatchObject({
      "gateway.networking.k8s.io/bundle-version": "v1.6.3",
      "gateway.networking.k8s.io/channel": "standard",
    });
  });

  it("refuses a route the upstream Gateway API schema refuses, with its CEL rule's message", async () => {
    const ns = await namespace();
    const route = {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "web", namespace: ns },
      spec: {
        rules: [
          {
            backendRefs: [{ name: "web", port: 80 }],
            filters: [
              {
                type: "RequestMirror",
                requestMirror: { backendRef: { name: "web", port: 80 }, percent: 10, fraction: { numerator: 1 } },
              },
            ],
          },
        ],
      },
    };
    await expect(kube().create(route)).rejects.toThrow(/Only one of percent or fraction may be specified/);
  });

  it("accepts a valid Rollout, with the CRD's defaults applied", async () => {
    const ns = await namespace();
    const created = await kube().create(rollout(ns, [{ setWeight: 20 }, { pause: { duration: "5s" } }]));
    expect(created.spec).toMatchObject({
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { canary: { scaleDownDelaySeconds: 30 } },
    });
  });

  it.each([
    { name: "two actions in a step", steps: [{ setWeight: 20, pause: {} }], message: "each step has exactly one action" },
    { name: "weight 120", steps: [{ setWeight: 120 }], message: "should be less than or equal to 100" },
    { name: "a duration in words", steps: [{ pause: { duration: "5 minutes" } }], message: "must be a duration like 30s" },
  ])("rejects $name with the rule's message", async ({ steps, message }) => {
    const ns = await namespace();
    const err = await kube()
      .create(rollout(ns, steps))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).status).toBe(422);
    expect((err as KubeError).message).toContain(message);
  });

  it("accepts every Ramp object in examples/ with strict field validation", async () => {
    const ns = await namespace("ex");
    const objects = readdirSync("examples").flatMap((f) =>
      parseAllDocuments(readFileSync(`examples/${f}`, "utf8")).map((d) => d.toJS() as KubeObject),
    );
    const ramp = objects.filter((o) => o.apiVersion.startsWith("ramp.dev/"));
    expect(ramp.length).toBeGreaterThanOrEqual(9);
    for (const obj of ramp) {
      const copy = { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata.name}-${ns}` } };
      if (obj.kind !== "ClusterAnalysisTemplate") copy.metadata.namespace = ns;
      await kube().create(copy);
      if (obj.kind === "ClusterAnalysisTemplate") await kube().delete(obj.apiVersion, obj.kind, copy.metadata.name as string);
    }
  });

  it("runs a ReplicaSet's pods on kwok nodes until Running and Ready, with ready endpoints", async () => {
    const ns = await namespace();
    const labels = { app: "web" };
    await kube().create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web", namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "nginx" }] } },
      },
    });
    await kube().create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: ns },
      spec: { selector: labels, ports: [{ port: 80 }] },
    });
    await eventually("3 ready replicas", async () => {
      const rs = await kube().get<KubeObject & { status?: { readyReplicas?: number } }>("apps/v1", "ReplicaSet", "web", ns);
      return rs.status?.readyReplicas === 3;
    });
    const pods = await kube().list<KubeObject & { spec: { nodeName?: string }; status: { phase?: string; podIP?: string } }>(
      "v1",
      "Pod",
      ns,
    );
    expect(
      pods.map((p) => [p.status.phase, Boolean(p.spec.nodeName?.startsWith("kwok-node-")), Boolean(p.status.podIP)]),
    ).toEqual([
      ["Running", true, true],
      ["Running", true, true],
      ["Running", true, true],
    ]);
    const ready = await eventually("3 ready endpoints", async () => {
      const slices = await kube().list<KubeObject & { endpoints?: { conditions: { ready?: boolean } }[] }>(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        ns,
        "kubernetes.io/service-name=web",
      );
      const n = slices.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).length;
      return n === 3 && n;
    });
    expect(ready).toBe(3);
  });

  it("binds every server to 127.0.0.1 only", async () => {
    for (const p of cluster().processes) {
      const addresses = await listeningAddresses(p.pid);
      for (const a of addresses) expect(a, `${p.name} listens on ${a}`).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });

  it("leaves no process and no port behind after `ramp dev up` then `ramp dev down`", async () => {
    const name = `updown-${process.pid}`;
    const cli = (...args: string[]) => run(process.execPath, ["src/cli/main.ts", "dev", ...args, `--name=${name}`]);
    await cli("up", "--nodes=1");
    const other = readState(name) as DevCluster;
    const ports = Object.values(other.ports);
    try {
      expect(other.processes.filter((p) => !isAlive(p.pid)).map((p) => p.name)).toEqual([]);
      expect(await portOpen(other.ports.apiserver as number)).toBe(true);
    } finally {
      await cli("down");
    }
    expect(other.processes.filter((p) => isAlive(p.pid)).map((p) => p.name)).toEqual([]);
    const open = [];
    for (const port of ports) if (await portOpen(port)) open.push(port);
    expect(open).toEqual([]);
    expect(readState(name)).toBeUndefined();
    // A second whole cluster, whose upstream routing CRDs (hundreds of CEL rules) the apiserver
    // compiles while other test clusters share the cores: measured 129 s at load average 30.
  }, 240_000);
});
