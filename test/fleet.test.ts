// Waves across clusters, end to end: three member dev clusters started beside the management one,
// each with its own Ramp controller doing the canary; the fleet coordinator in the management
// cluster walks a FleetRollout across them. Good release, bad release with rollback, a member made
// unreachable mid-wave, and the coordinator SIGKILLed at random points.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { CHART, helm } from "../scripts/helm.ts";
import type { FleetRolloutStatus } from "../src/api/fleet.ts";
import { type DevCluster, devDown, devUp } from "../src/dev/up.ts";
import { KubeClient, type KubeObject } from "../src/kube/client.ts";
import { type FreezingProxy, freezingProxy } from "../src/kube/freezing-proxy.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, type RolloutObj, ramp, rampWatch, rollout, startController, template } from "./rollouts.ts";

const MEMBERS = ["m1", "m2", "m3"] as const;
/** The soak of the cut-off scenario's wave. */
const SOAK_S = 12;
type MemberName = (typeof MEMBERS)[number];
const ROOT = new URL("..", import.meta.url).pathname;
const FLEET_CONTROLLER = [process.execPath, `${ROOT}src/cli/main.ts`, "fleet", "controller"];

interface Member {
  name: MemberName;
  dev: DevCluster;
  client: KubeClient;
  controller: ControllerProcess;
}

const members = new Map<MemberName, Member>();
let analysis: ControllerProcess | undefined;
const started: ControllerProcess[] = [];
const clusterName = (m: string) => `fleet-${process.pid}-${m}`;

/** The dev kubeconfig with its files inlined (a member's Secret carries no paths), optionally through another address. */
function inlineKubeconfig(path: string, server?: string): string {
  const doc = parse(readFileSync(path, "utf8")) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  const b64 = (file: string | undefined) => Buffer.from(readFileSync(file as string)).toString("base64");
  for (const c of doc.clusters) {
    c.cluster["certificate-authority-data"] = b64(c.cluster["certificate-authority"]);
    delete c.cluster["certificate-authority"];
    if (server) c.cluster.server = server;
  }
  for (const u of doc.users) {
    u.user["client-certificate-data"] = b64(u.user["client-certificate"]);
    u.user["client-key-data"] = b64(u.user["client-key"]);
    delete u.user["client-certificate"];
    delete u.user["client-key"];
  }
  return stringify(doc);
}

const memberSecret = (ns: string, name: string, kubeconfig: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `member-${name}`, namespace: ns, labels: { "ramp.dev/fleet-member": name, ...labels } },
  data: { kubeconfig: Buffer.from(kubeconfig).toString("base64") },
});

/** The RSS of a cluster's processes (apiserver, etcd, controller-manager, scheduler, kwok, Prometheus, simulator). */
function rssMiB(pids: number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

type Fleet = KubeObject & { metadata: { generation?: number }; status?: FleetRolloutStatus };
const getFleet = (ns: string, name: string) => kube().get<Fleet>("ramp.dev/v1alpha1", "FleetRollout", name, ns);
const memberRollout = (m: MemberName, ns: string) =>
  (members.get(m) as Member).client.get<RolloutObj>("ramp.dev/v1alpha1", "Rollout", "web", ns);
const imageOf = (r: RolloutObj) => (r.spec.template as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image;

async function waitFleet(ns: string, name: string, what: string, check: (s: FleetRolloutStatus) => boolean, ms = 240_000) {
  let last: unknown;
  return eventually(
    `${ns}/${name}: ${what}`,
    async () => {
      const f = await getFleet(ns, name);
      last = f.status;
      return f.status && f.status.observedGeneration === f.metadata.generation && check(f.status) ? f.status : undefined;
    },
    ms,
  ).catch(async (err: unknown) => {
    // What the fleet and its members said last, and what the coordinators logged: a failure explains itself.
    const rollouts = await Promise.all(
      MEMBERS.map(async (m) => [
        m,
        await memberRollout(m, ns).then((r) => ({ annotations: r.metadata.annotations, status: r.status }), String),
      ]),
    );
    const logs = started.filter((c) => c.output().includes(ns)).map((c) => c.output().split("\n").slice(-40).join("\n"));
    throw new Error(
      `${(err as Error).message}\nfleet status: ${JSON.stringify(last)}\nmember rollouts: ${JSON.stringify(rollouts)}\ncoordinator logs:\n${logs.join("\n---\n")}`,
    );
  });
}

/** The member Rollout every scenario releases: a canary whose analysis reads the template's `errors` annotation. */
const errorsTemplate = (ns: string, prometheusUrl: string) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "errors", namespace: ns },
  spec: {
    args: [{ name: "errors" }],
    metrics: [
      {
        name: "errors",
        successCondition: "result < 0.5",
        provider: { prometheus: { address: prometheusUrl, query: "vector({{args.errors}})" } },
      },
    ],
  },
});
const versioned = (image: string, errors: string) => {
  const t = template("web", image);
  return { ...t, metadata: { ...t.metadata, annotations: { errors } } };
};

/** The Rollout `web` at web:1 in `ns` of every member, Healthy. */
async function memberRollouts(ns: string): Promise<void> {
  await Promise.all(
    [...members.values()].map(async (m) => {
      await m.client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      await m.client.create(errorsTemplate(ns, m.dev.prometheusUrl));
      await m.client.create(
        rollout(ns, "web", {
          replicas: 2,
          template: versioned("web:1", "0"),
          strategy: {
            canary: {
              steps: [
                { setWeight: 50 },
                {
                  analysis: {
                    templates: [{ templateName: "errors" }],
                    args: [
                      { name: "errors", valueFrom: { fieldRef: { fieldPath: "spec.template.metadata.annotations.errors" } } },
                    ],
                  },
                },
              ],
            },
          },
        }),
      );
    }),
  );
  for (const m of MEMBERS) {
    await eventually(
      `${m}: web Healthy`,
      async () => {
        const r = await memberRollout(m, ns);
        return r.status?.phase === "Healthy" && r.status.observedGeneration === r.metadata.generation;
      },
      120_000,
    );
  }
}

async function fleetNamespace(prefix: string, kubeconfigs: Partial<Record<MemberName, string>> = {}): Promise<string> {
  const ns = await namespace(prefix);
  for (const m of members.values()) {
    const kubeconfig = kubeconfigs[m.name] ?? inlineKubeconfig(m.dev.kubeconfig);
    await kube().create(memberSecret(ns, m.name, kubeconfig, { region: m.name === "m1" ? "small" : "big" }));
  }
  return ns;
}

interface Coordinator {
  /** The process running now. */
  current: () => ControllerProcess;
  /** How many times it was started again after it exited. */
  restarts: () => number;
  stop: () => Promise<void>;
}

/** `ramp fleet controller` for one namespace, started again whenever it exits, as a Deployment's pod
 * would be (a coordinator that loses its Lease on the loaded machine exits by design). */
async function coordinator(ns: string, identity: string, kubeconfig?: string): Promise<Coordinator> {
  const launch = async (n: number) => {
    const c = await startController(
      [
        ...["--namespace", ns, "--leader-election-namespace", ns, "--identity", `${identity}-${n}`],
        ...["--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "1s", "--member-timeout", "3s"],
      ],
      { command: FLEET_CONTROLLER, ...(kubeconfig ? { kubeconfig } : {}) },
    );
    started.push(c);
    return c;
  };
  let stopped = false;
  let restarts = 0;
  let current = await launch(0);
  const supervise = (c: ControllerProcess): void => {
    void c.exited.then(async () => {
      if (stopped) return;
      restarts++;
      current = await launch(restarts);
      supervise(current);
    });
  };
  supervise(current);
  return {
    current: () => current,
    restarts: () => restarts,
    stop: async () => {
      stopped = true;
      await current.stop();
    },
  };
}

/** The chart's fleet RBAC (fleet.enabled=true) for a release in `ns`, granted; returns a kubeconfig
 * that is its ServiceAccount and nothing else (a token from the TokenRequest API). */
async function chartServiceAccount(ns: string): Promise<string> {
  const release = `fleet-${ns.slice(-8)}`;
  const text = await helm([
    "template",
    release,
    CHART,
    "--namespace",
    ns,
    "--set",
    "fleet.enabled=true",
    "--show-only",
    "templates/serviceaccount.yaml",
    "--show-only",
    "templates/fleet.yaml",
  ]);
  for (const obj of parseAllDocuments(text).map((d) => d.toJS() as KubeObject | null)) {
    if (obj && obj.kind !== "Deployment") await kube().create(obj);
  }
  const sa = `${release}-ramp`;
  const answer = await kube().request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    },
  );
  const admin = parse(readFileSync(cluster().kubeconfig, "utf8"));
  const file = join(cluster().dir, `${release}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      ...admin,
      users: [{ name: sa, user: { token: answer.status.token } }],
      contexts: [{ name: sa, context: { cluster: admin.clusters[0].name, user: sa } }],
      "current-context": sa,
    }),
  );
  return file;
}

const fleetRollout = (ns: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "FleetRollout",
  metadata: { name, namespace: ns },
  spec: { rolloutRef: { namespace: ns, name: "web" }, ...spec },
});

describe("fleet rollouts across three member clusters", () => {
  beforeAll(async () => {
    const t0 = Date.now();
    const devs = await Promise.all(MEMBERS.map((m) => devUp({ name: clusterName(m), nodes: 1 })));
    console.log(`three member clusters up in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    for (const [i, m] of MEMBERS.entries()) {
      const dev = devs[i] as DevCluster;
      const controller = await startController(["--prometheus-url", dev.prometheusUrl, "--no-notifications"], {
        kubeconfig: dev.kubeconfig,
      });
      started.push(controller);
      members.set(m, {
        name: m,
        dev,
        client: new KubeClient({ kubeconfig: dev.kubeconfig, fieldManager: "ramp-test" }),
        controller,
      });
    }
    // The management cluster's AnalysisRuns (the analyses between waves) are measured by its own Ramp.
    analysis = await startController(["--prometheus-url", cluster().prometheusUrl, "--no-notifications", "--no-leader-elect"]);
    started.push(analysis);
    const rss = [
      ["management", rssMiB(cluster().processes.map((p) => p.pid))],
      ...MEMBERS.map((m, i) => [m, rssMiB((devs[i] as DevCluster).processes.map((p) => p.pid))]),
    ] as [string, number][];
    const total = rss.reduce((s, [, v]) => s + v, 0);
    console.log(
      `memory (RSS of each dev cluster's processes): ${rss.map(([n, v]) => `${n} ${v.toFixed(0)} MiB`).join(", ")}; four clusters ${total.toFixed(0)} MiB`,
    );
  }, 600_000);

  afterAll(async () => {
    for (const c of started) await c.stop("SIGKILL").catch(() => {});
    await Promise.all(MEMBERS.map((m) => devDown(clusterName(m)).catch(() => false)));
  }, 180_000);

  it.concurrent("a good release walks wave 1, soaks and passes its analysis, then wave 2; the coordinator SIGKILLed at random points still ends right", async () => {
    const ns = await fleetNamespace("fleet-good");
    await kube().create(errorsTemplate(ns, cluster().prometheusUrl));
    await memberRollouts(ns);
    // The coordinator runs as the chart's fleet ServiceAccount: its RBAC is all it needs.
    const asChart = await chartServiceAccount(ns);
    const c = await coordinator(ns, "good", asChart);
    await kube().create(
      fleetRollout(ns, "web", {
        template: versioned("web:2", "0"),
        waves: [
          {
            name: "small",
            selector: { matchLabels: { region: "small" } },
            soak: "5s",
            analysis: { templates: [{ templateName: "errors" }], args: [{ name: "errors", value: "0" }] },
          },
          { name: "big", clusters: ["m2", "m3"], maxConcurrent: 2 },
        ],
      }),
    );
    // SIGKILL the coordinator at random points; it is started again (as a Deployment would), until the fleet ends.
    let kills = 0;
    let done = false;
    const killer = (async () => {
      while (!done && kills < 4) {
        await sleep(2_000 + Math.random() * 5_000);
        if (done) break;
        await c.current().stop("SIGKILL");
        kills++;
      }
    })();
    const end = await waitFleet(ns, "web", "Healthy", (s) => s.phase === "Healthy", 360_000).finally(() => {
      done = true;
    });
    await killer;
    console.log(`good release: ${kills} SIGKILLs of the coordinator along the way (${c.restarts()} restarts)`);
    const [small, big] = end.waves ?? [];
    expect(small?.clusters.map((c) => [c.name, c.phase])).toEqual([["m1", "Healthy"]]);
    expect(big?.clusters.map((c) => [c.name, c.phase])).toEqual([
      ["m2", "Healthy"],
      ["m3", "Healthy"],
    ]);
    expect(small?.analysisRun?.phase).toBe("Successful");
    // Wave 2 started only after wave 1 had been Healthy for its soak.
    const soaked = (Date.parse(big?.startedAt as string) - Date.parse(small?.healthyAt as string)) / 1000;
    expect(soaked).toBeGreaterThanOrEqual(5);
    for (const c of big?.clusters ?? []) {
      expect(Date.parse(c.updatedAt as string)).toBeGreaterThanOrEqual(Date.parse(big?.startedAt as string));
    }
    for (const m of MEMBERS) {
      const r = await memberRollout(m, ns);
      expect([m, imageOf(r), r.status?.phase, r.status?.stableRS === r.status?.currentPodHash]).toEqual([
        m,
        "web:2",
        "Healthy",
        true,
      ]);
    }
    const status = await ramp("fleet", "status", "web", "-n", ns);
    expect(status.stdout).toContain("wave 2 big: Healthy");
    const reasons = (await kube().list<KubeObject & { reason: string; involvedObject: { name: string } }>("v1", "Event", ns))
      .filter((e) => e.involvedObject.name === "web")
      .map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["WaveStarted", "ClusterUpdated", "WaveHealthy", "FleetHealthy"]));
    await c.stop();
  }, 480_000);

  it.concurrent("a release bad in the first cluster stops there: the others never see it, and onFailure rollback returns the first", async () => {
    const ns = await fleetNamespace("fleet-bad");
    await memberRollouts(ns);
    const c = await coordinator(ns, "bad");
    const before = await memberRollout("m1", ns);
    await kube().create(
      fleetRollout(ns, "web", {
        template: versioned("web:2", "1"),
        onFailure: "rollback",
        waves: [
          { name: "small", clusters: ["m1"] },
          { name: "big", clusters: ["m2", "m3"] },
        ],
      }),
    );
    const stopped = await waitFleet(ns, "web", "stopped", (s) => s.phase === "RollingBack" || s.phase === "RolledBack");
    expect(stopped.stopReason).toMatch(/^m1 is Degraded/);
    const end = await waitFleet(ns, "web", "RolledBack", (s) => s.phase === "RolledBack");
    expect(end.waves?.map((w) => w.phase)).toEqual(["RolledBack", "Skipped"]);
    expect(end.waves?.[1]?.clusters.map((x) => x.phase)).toEqual(["Skipped", "Skipped"]);
    const m1 = await eventually(
      "m1 Healthy on its previous template",
      async () => {
        const r = await memberRollout("m1", ns);
        return r.status?.phase === "Healthy" && r.status.observedGeneration === r.metadata.generation ? r : undefined;
      },
      120_000,
    );
    expect(imageOf(m1)).toBe("web:1");
    expect(m1.status?.stableRS).toBe(before.status?.stableRS);
    for (const m of ["m2", "m3"] as const) {
      const r = await memberRollout(m, ns);
      expect([
        m,
        imageOf(r),
        r.metadata.generation,
        (r.metadata.annotations as Record<string, string> | undefined)?.["ramp.dev/fleet-revision"],
      ]).toEqual([m, "web:1", 1, undefined]);
    }
    await c.stop();
  }, 480_000);

  it.concurrent("a member made unreachable mid-wave holds the fleet (never counted Healthy) and is reported; reachable again, the fleet ends Healthy", async () => {
    const m2 = members.get("m2") as Member;
    const proxy: FreezingProxy = await freezingProxy(m2.dev.apiserverUrl);
    try {
      const ns = await fleetNamespace("fleet-cut", { m2: inlineKubeconfig(m2.dev.kubeconfig, proxy.url) });
      await memberRollouts(ns);
      const c = await coordinator(ns, "cut");
      await kube().create(
        fleetRollout(ns, "web", {
          template: versioned("web:2", "0"),
          waves: [{ name: "all", clusters: ["m1", "m2"], soak: `${SOAK_S}s` }],
        }),
      );
      // Cut off mid-wave: its clusters updated, the soak under way (a member's canary alone is over in seconds).
      await waitFleet(ns, "web", "wave soaking", (s) => s.waves?.[0]?.phase === "Soaking");
      proxy.freeze();
      const cutAt = Date.now();
      const held = await waitFleet(ns, "web", "m2 reported unreachable", (s) => {
        const x = s.waves?.[0]?.clusters.find((y) => y.name === "m2");
        return x?.reachable === false;
      });
      expect(held.waves?.[0]?.phase).toBe("Progressing");
      expect(held.waves?.[0]?.clusters.find((y) => y.name === "m2")?.code).toBe("MEMBER_UNREACHABLE");
      expect(held.waves?.[0]?.healthyAt).toBeUndefined(); // the soak starts again once it answers
      expect(held.phase).toBe("Progressing");
      // m2 itself finishes its canary (its own Ramp), but the fleet cannot see it: it holds.
      await eventually(
        "m2's Rollout Healthy on web:2, seen directly",
        async () => {
          const r = await memberRollout("m2", ns);
          return imageOf(r) === "web:2" && r.status?.phase === "Healthy" && r.status.stableRS === r.status.currentPodHash;
        },
        120_000,
      );
      // Past the soak the fleet would have needed: still held.
      await sleep(Math.max(0, cutAt + (SOAK_S + 3) * 1000 - Date.now()));
      const still = (await getFleet(ns, "web")).status;
      expect(still?.phase).toBe("Progressing");
      expect(still?.waves?.[0]?.message).toMatch(/held: m2 cannot be reached/);
      expect((await ramp("fleet", "status", "web", "-n", ns)).stdout).toContain(
        "m2: Progressing (unreachable: MEMBER_UNREACHABLE)",
      );
      proxy.resume();
      const end = await waitFleet(ns, "web", "Healthy once m2 answers again", (s) => s.phase === "Healthy");
      expect(end.waves?.[0]?.clusters.map((x) => [x.name, x.phase, x.reachable, x.code])).toEqual([
        ["m1", "Healthy", undefined, undefined],
        ["m2", "Healthy", undefined, undefined],
      ]);
      expect(Date.parse(end.waves?.[0]?.healthyAt as string)).toBeGreaterThan(cutAt); // a whole soak after the cut
      await c.stop();
    } finally {
      await proxy.close();
    }
  }, 480_000);
  it.concurrent("ramp fleet promote skips a wave's soak; ramp fleet abort stops the fleet (onFailure pause) and status -w exits 1", async () => {
    const ns = await fleetNamespace("fleet-cli");
    await memberRollouts(ns);
    const c = await coordinator(ns, "cli");
    await kube().create(
      fleetRollout(ns, "web", {
        image: { image: "web:3" },
        waves: [
          { name: "first", clusters: ["m3"], soak: "1h" },
          { name: "second", clusters: ["m2"], soak: "1h" },
        ],
      }),
    );
    await waitFleet(ns, "web", "wave 1 soaking", (s) => s.waves?.[0]?.phase === "Soaking");
    expect((await ramp("fleet", "promote", "web", "-n", ns)).code).toBe(0);
    const promoted = await waitFleet(ns, "web", "wave 2 under way", (s) => s.currentWave === 1);
    expect(promoted.waves?.[0]).toMatchObject({ phase: "Healthy", message: "promoted" });
    expect(promoted.promote).toBeUndefined();
    const watch = rampWatch("fleet", "status", "web", "-n", ns, "-w");
    expect((await ramp("fleet", "abort", "web", "-n", ns)).code).toBe(0);
    const end = await waitFleet(ns, "web", "stopped", (s) => s.phase === "Degraded");
    expect(end.stopReason).toBe("aborted by ramp fleet abort");
    expect(await eventually("status -w ends", async () => (await Promise.race([watch.exited, sleep(200)])) ?? false)).toBe(1);
    expect(watch.output()).toContain("FleetRollout");
    expect(imageOf(await memberRollout("m3", ns))).toBe("web:3");
    await c.stop();
  }, 480_000);

  // Last and alone: while the ClusterProfile API is served, every namespace's members are its ClusterProfiles.
  it("with the ClusterProfile API served, the members are the namespace's ClusterProfiles (labels from them)", async () => {
    const crd = clusterProfileCrd();
    await kube().create(crd);
    try {
      await eventually("ClusterProfile served", async () => {
        await kube().list("multicluster.x-k8s.io/v1alpha1", "ClusterProfile", "default");
        return true;
      });
      const ns = await fleetNamespace("fleet-inventory");
      await kube().create({
        apiVersion: "multicluster.x-k8s.io/v1alpha1",
        kind: "ClusterProfile",
        metadata: { name: "m3", namespace: ns, labels: { region: "edge" } },
        spec: { displayName: "m3", clusterManager: { name: "ramp-test" } },
      });
      await memberRollouts(ns);
      const c = await coordinator(ns, "inventory");
      await kube().create(
        fleetRollout(ns, "web", {
          image: { image: "web:4" },
          waves: [{ name: "edge", selector: { matchLabels: { region: "edge" } } }],
        }),
      );
      const end = await waitFleet(ns, "web", "Healthy", (s) => s.phase === "Healthy");
      expect(end.waves?.[0]?.clusters.map((x) => [x.name, x.phase])).toEqual([["m3", "Healthy"]]);
      expect(imageOf(await memberRollout("m1", ns))).toBe("web:1");
      await c.stop();
    } finally {
      await kube().delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", crd.metadata.name as string);
    }
  }, 300_000);
});

/** A stand-in for the Cluster Inventory API's ClusterProfile CRD (sigs.k8s.io/cluster-inventory-api
 * is not on the Go module proxy this suite may use): the same group, version and kind; the
 * coordinator reads only names and labels. */
function clusterProfileCrd(): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "clusterprofiles.multicluster.x-k8s.io" },
    spec: {
      group: "multicluster.x-k8s.io",
      scope: "Namespaced",
      names: { kind: "ClusterProfile", plural: "clusterprofiles", singular: "clusterprofile", listKind: "ClusterProfileList" },
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}
