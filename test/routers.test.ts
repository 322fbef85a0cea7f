// Each traffic router end to end on the dev cluster: a Rollout behind the router's objects, a real
// controller process, and the traffic simulator's counts as the measure of what reaches the canary.
// The routers run concurrently, each in its own namespace, under one controller.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, it } from "vitest";
import { isNotFound, type KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import {
  type ControllerProcess,
  getRollout,
  ramp,
  rollout,
  service,
  setImage,
  startController,
  waitForRollout,
} from "./rollouts.ts";

const INSTANCE = `routers-${randomBytes(3).toString("hex")}`;
const NAME = "web";
const STABLE = `${NAME}-stable`;
const CANARY = `${NAME}-canary`;
// The simulator sends 100 requests/s to each host, 10% of them per header route with its headers:
// over 10 s about 1000 requests, 900 of them plain beside a header route. For a 25% share the
// standard deviation is then about 1.5 points, so ±7 points is over 4.5 standard deviations; for a
// 50% mirror it is about 1.7 points, and ±8 points is over 4.5 too.
const WINDOW_S = 10;
const SHARE_TOLERANCE = 0.07;
const MIRROR_TOLERANCE = 0.08;

interface Counts {
  requests: number;
  withHeaders: number;
  mirrored: number;
  noEndpoints: number;
}
const ZERO: Counts = { requests: 0, withHeaders: 0, mirrored: 0, noEndpoints: 0 };
type Side = "stable" | "canary";
type Measured = Record<Side, Counts>;

async function simulatorStats(): Promise<Record<string, Record<string, Counts>>> {
  return ((await (await fetch(`${cluster().simulatorUrl}/stats`)).json()) as { stats: Record<string, Record<string, Counts>> })
    .stats;
}

/** Requests per pod-template hash in a namespace, from the simulator's own metrics. */
async function requestsByHash(ns: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${cluster().simulatorUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (!line.startsWith("http_requests_total{") || !line.includes(`namespace="${ns}"`)) continue;
    const hash = /pod_template_hash="([^"]*)"/.exec(line)?.[1] ?? "";
    out[hash] = (out[hash] ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return out;
}

const minus = (a: Counts | undefined, b: Counts | undefined): Counts => ({
  requests: (a?.requests ?? 0) - (b?.requests ?? 0),
  withHeaders: (a?.withHeaders ?? 0) - (b?.withHeaders ?? 0),
  mirrored: (a?.mirrored ?? 0) - (b?.mirrored ?? 0),
  noEndpoints: (a?.noEndpoints ?? 0) - (b?.noEndpoints ?? 0),
});

/** What reached stable and canary over a fresh window, by destination Service. */
async function byService(host: string): Promise<Measured> {
  const before = (await simulatorStats())[host] ?? {};
  await sleep(WINDOW_S * 1000);
  const after = (await simulatorStats())[host] ?? {};
  return { stable: minus(after[STABLE], before[STABLE]), canary: minus(after[CANARY], before[CANARY]) };
}

/** Subset mode has one Service: what reached each revision's pods, by pod-template hash. */
async function byHash(ns: string, host: string, hashes: Record<Side, string>): Promise<Measured> {
  const [before, statsBefore] = [await requestsByHash(ns), (await simulatorStats())[host]?.[NAME]];
  await sleep(WINDOW_S * 1000);
  const [after, statsAfter] = [await requestsByHash(ns), (await simulatorStats())[host]?.[NAME]];
  const side = (hash: string): Counts => ({ ...ZERO, requests: (after[hash] ?? 0) - (before[hash] ?? 0) });
  // The simulator counts requests without endpoints per Service; book them on stable.
  return {
    stable: { ...side(hashes.stable), noEndpoints: minus(statsAfter, statsBefore).noEndpoints },
    canary: side(hashes.canary),
  };
}

const plain = (c: Counts) => c.requests - c.withHeaders;

interface RouterCase {
  name: string;
  /** The simulator's id for the host the router's objects define. */
  host: (ns: string) => string;
  /** The Services and routing objects a user would have before the Rollout. */
  objects: (ns: string) => KubeObject[];
  trafficRouting: Record<string, unknown>;
  header: boolean;
  mirror: boolean;
  /** Subset mode: stable and canary are told apart by pod-template hash, not Service. */
  subsets?: boolean;
  /** An object of the user's that Ramp must never write. */
  untouched?: { apiVersion: string; kind: string; name: string };
  /** Another writer's change to a field Ramp does not own, and how to see that it is still there. */
  other: { apiVersion: string; kind: string; name: string; patch: Record<string, unknown>; kept: (o: KubeObject) => boolean };
}

const twoServices = (ns: string) => [service(ns, STABLE, NAME), service(ns, CANARY, NAME)];
const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

const CASES: RouterCase[] = [
  {
    name: "Gateway API HTTPRoute",
    host: (ns) => `HTTPRoute/${ns}/${NAME}`,
    objects: (ns) => [
      ...twoServices(ns),
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: NAME, namespace: ns },
        spec: {
          parentRefs: [{ name: "gw" }],
          rules: [
            {
              backendRefs: [
                { name: STABLE, port: 80, weight: 100 },
                { name: CANARY, port: 80, weight: 0 },
              ],
            },
          ],
        },
      },
    ],
    trafficRouting: { gatewayAPI: { httpRoute: NAME } },
    header: true,
    mirror: true,
    other: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      name: NAME,
      patch: { spec: { hostnames: ["web.example.com"] } },
      kept: (o) => JSON.stringify(spec(o).hostnames) === '["web.example.com"]',
    },
  },
  {
    name: "Istio VirtualService, host mode",
    host: (ns) => `VirtualService/${ns}/${NAME}`,
    objects: (ns) => [
      ...twoServices(ns),
      {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: NAME, namespace: ns },
        spec: {
          hosts: [NAME],
          http: [
            {
              name: "primary",
              route: [
                { destination: { host: STABLE, port: { number: 80 } }, weight: 100 },
                { destination: { host: CANARY, port: { number: 80 } }, weight: 0 },
              ],
            },
          ],
        },
      },
    ],
    trafficRouting: { istio: { virtualService: { name: NAME, routes: ["primary"] } } },
    header: true,
    mirror: true,
    other: {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      name: NAME,
      patch: { spec: { gateways: ["mesh"] } },
      kept: (o) => JSON.stringify(spec(o).gateways) === '["mesh"]',
    },
  },
  {
    name: "Istio VirtualService, subset mode",
    host: (ns) => `VirtualService/${ns}/${NAME}`,
    objects: (ns) => [
      service(ns, NAME, NAME),
      {
        apiVersion: "networking.istio.io/v1",
        kind: "DestinationRule",
        metadata: { name: NAME, namespace: ns },
        spec: {
          host: NAME,
          subsets: [
            { name: "stable", labels: { app: NAME } },
            { name: "canary", labels: { app: NAME } },
          ],
        },
      },
      {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name: NAME, namespace: ns },
        spec: {
          hosts: [NAME],
          http: [
            {
              route: [
                { destination: { host: NAME, subset: "stable" }, weight: 100 },
                { destination: { host: NAME, subset: "canary" }, weight: 0 },
              ],
            },
          ],
        },
      },
    ],
    trafficRouting: {
      istio: {
        virtualService: { name: NAME },
        destinationRule: { name: NAME, stableSubsetName: "stable", canarySubsetName: "canary" },
      },
    },
    header: false,
    mirror: false,
    subsets: true,
    other: {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      name: NAME,
      patch: { spec: { trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } } } },
      kept: (o) => JSON.stringify(spec(o).trafficPolicy) === '{"loadBalancer":{"simple":"ROUND_ROBIN"}}',
    },
  },
  {
    name: "NGINX Ingress",
    host: (ns) => `Ingress/${ns}/${NAME}`,
    objects: (ns) => [
      ...twoServices(ns),
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: NAME, namespace: ns },
        spec: {
          ingressClassName: "nginx",
          rules: [
            {
              host: "web.example.com",
              http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: STABLE, port: { number: 80 } } } }] },
            },
          ],
        },
      },
    ],
    trafficRouting: { nginx: { stableIngress: NAME } },
    header: true,
    mirror: false,
    untouched: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: NAME },
    // Ramp never writes the user's Ingress; another writer's change to the canary Ingress it generates stays too.
    other: {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      name: `${NAME}-${NAME}-canary`,
      patch: { metadata: { annotations: { "example.com/owner": "shop" } } },
      kept: (o) => (o.metadata as { annotations?: Record<string, string> }).annotations?.["example.com/owner"] === "shop",
    },
  },
  {
    name: "SMI TrafficSplit",
    host: (ns) => `TrafficSplit/${ns}/${NAME}`,
    objects: (ns) => [...twoServices(ns), service(ns, NAME, NAME)],
    trafficRouting: { smi: { rootService: NAME } },
    header: false,
    mirror: false,
    // Ramp creates the TrafficSplit in the one version the upstream CRD serves.
    other: {
      apiVersion: "split.smi-spec.io/v1alpha4",
      kind: "TrafficSplit",
      name: NAME,
      patch: { metadata: { labels: { team: "shop" } } },
      kept: (o) => o.metadata.labels?.team === "shop",
    },
  },
];

function steps(c: Pick<RouterCase, "header" | "mirror">): Record<string, unknown>[] {
  return [
    { setWeight: 25 },
    ...(c.header ? [{ setHeaderRoute: { name: "beta", match: [{ headerName: "X-Beta", headerValue: { exact: "1" } }] } }] : []),
    ...(c.mirror ? [{ setMirrorRoute: { name: "shadow", percentage: 50, match: [{ method: { exact: "GET" } }] } }] : []),
    { pause: {} },
  ];
}

/** Creates the Rollout with these steps behind the case's objects (already created); resolves to
 * the first revision's hash once it is healthy. */
async function deploy(
  c: Pick<RouterCase, "trafficRouting" | "header" | "mirror" | "subsets">,
  ns: string,
  canarySteps: Record<string, unknown>[],
): Promise<string> {
  const managedRoutes = [...(c.header ? [{ name: "beta" }] : []), ...(c.mirror ? [{ name: "shadow" }] : [])];
  const r = rollout(
    ns,
    NAME,
    {
      replicas: 4,
      strategy: {
        canary: {
          ...(c.subsets ? {} : { stableService: STABLE, canaryService: CANARY }),
          scaleDownDelaySeconds: 2,
          abortScaleDownDelaySeconds: 2,
          trafficRouting: { ...c.trafficRouting, ...(managedRoutes.length ? { managedRoutes } : {}) },
          steps: canarySteps,
        },
      },
    },
    { "ramp.dev/controller-instance-id": INSTANCE },
  );
  await kube().create(r);
  return (await waitForRollout(ns, NAME, "first revision healthy", (s) => s.phase === "Healthy", 90_000)).stableRS as string;
}

/** Requests the simulator found no ready endpoint for, over every Service behind the host. */
const noEndpoints = (stats: Record<string, Counts> | undefined) =>
  Object.values(stats ?? {}).reduce((n, c) => n + c.noEndpoints, 0);

const gatewayCase = CASES[0] as RouterCase;

describe("traffic routers", () => {
  let controller: ControllerProcess;
  beforeAll(async () => {
    controller = await startController(["--instance-id", INSTANCE, "--no-leader-elect", "--no-analysis", "--no-notifications"]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it.concurrent.for(CASES)(
    "$name: 25% at the weight step, header and mirror routes where it has them, abort back to stable, others' fields kept",
    { timeout: 240_000 },
    async (c, { expect }) => {
      const ns = await namespace("router");
      for (const o of c.objects(ns)) await kube().create(o);
      const version = async () =>
        c.untouched &&
        (await kube().get(c.untouched.apiVersion, c.untouched.kind, c.untouched.name, ns)).metadata.resourceVersion;
      const untouchedVersion = await version();
      const v1 = await deploy(c, ns, steps(c));

      await setImage(ns, NAME, `${NAME}:2`);
      const pauseAt = steps(c).length - 1;
      const paused = await waitForRollout(
        ns,
        NAME,
        "paused after the weight step",
        (s) => s.phase === "Paused" && s.currentStepIndex === pauseAt,
        90_000,
      );
      const v2 = paused.currentPodHash as string;
      expect(paused.canary?.weights?.canary.weight).toBe(25);
      const measure = () => (c.subsets ? byHash(ns, c.host(ns), { stable: v1, canary: v2 }) : byService(c.host(ns)));

      await sleep(1500); // the simulator re-reads the routes every 500 ms
      const during = await measure();
      const share = plain(during.canary) / (plain(during.stable) + plain(during.canary));
      expect(share, JSON.stringify(during)).toBeGreaterThan(0.25 - SHARE_TOLERANCE);
      expect(share, JSON.stringify(during)).toBeLessThan(0.25 + SHARE_TOLERANCE);
      expect(during.stable.noEndpoints + during.canary.noEndpoints).toBe(0);
      if (c.header) {
        expect(during.canary.withHeaders, JSON.stringify(during)).toBeGreaterThan(0);
        expect(during.stable.withHeaders, JSON.stringify(during)).toBe(0);
      }
      if (c.mirror) {
        const mirrored = during.canary.mirrored / (plain(during.stable) + plain(during.canary));
        expect(mirrored, JSON.stringify(during)).toBeGreaterThan(0.5 - MIRROR_TOLERANCE);
        expect(mirrored, JSON.stringify(during)).toBeLessThan(0.5 + MIRROR_TOLERANCE);
      }

      // Another writer changes a field of the same object; Ramp's next write (the abort) must keep it.
      await kube().patch(c.other.apiVersion, c.other.kind, c.other.name, ns, c.other.patch);
      const aborted = await ramp("abort", NAME, "-n", ns);
      expect(aborted.code, aborted.stderr).toBe(0);
      const degraded = await waitForRollout(ns, NAME, "aborted", (s) => s.phase === "Degraded", 60_000);
      expect(degraded.canary?.weights?.canary.weight).toBe(0);
      await sleep(1500);
      const after = await measure();
      expect(after.canary.requests + after.canary.mirrored, JSON.stringify(after)).toBe(0);
      expect(after.stable.requests, JSON.stringify(after)).toBeGreaterThan(0);
      expect(after.stable.noEndpoints).toBe(0);
      const other = await kube().get(c.other.apiVersion, c.other.kind, c.other.name, ns);
      expect(c.other.kept(other), JSON.stringify(other)).toBe(true);
      expect(await version()).toBe(untouchedVersion);
      expect((await getRollout(ns, NAME)).status?.phase).toBe("Degraded");
    },
  );

  it.concurrent.for(CASES.filter((c) => c === gatewayCase || c.name === "Istio VirtualService, host mode"))(
    "$name: a full rollout never sends a request to a Service without ready endpoints and ends all on the new stable",
    { timeout: 240_000 },
    async (c, { expect }) => {
      const ns = await namespace("router");
      for (const o of c.objects(ns)) await kube().create(o);
      const v1 = await deploy(c, ns, [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }]);
      await sleep(1500); // the simulator re-reads endpoints every 500 ms
      const before = (await simulatorStats())[c.host(ns)];

      await setImage(ns, NAME, `${NAME}:2`);
      const paused = await waitForRollout(
        ns,
        NAME,
        "paused at 25%",
        (s) => s.phase === "Paused" && s.currentStepIndex === 1,
        90_000,
      );
      expect(paused.canary?.weights?.canary.weight).toBe(25);
      const v2 = paused.currentPodHash as string;
      const promoted = await ramp("promote", NAME, "-n", ns, "--full");
      expect(promoted.code, promoted.stderr).toBe(0);
      const done = await waitForRollout(ns, NAME, "v2 stable", (s) => s.phase === "Healthy" && s.stableRS === v2, 90_000);
      expect(done.canary?.weights?.canary.weight).toBe(0);
      // The old revision scales down after scaleDownDelaySeconds; the count covers that too.
      await sleep(4000);
      const end = await byHash(ns, c.host(ns), { stable: v2, canary: v1 });
      expect(end.canary.requests, JSON.stringify(end)).toBe(0);
      expect(end.stable.requests, JSON.stringify(end)).toBeGreaterThan(0);
      const after = (await simulatorStats())[c.host(ns)];
      expect(noEndpoints(after) - noEndpoints(before), JSON.stringify({ before, after })).toBe(0);
    },
  );

  it.concurrent("Gateway API HTTPRoute: deleting the Rollout mid-rollout leaves the route 100% on stable without Ramp's rules", {
    timeout: 240_000,
  }, async ({ expect }) => {
    const c = gatewayCase;
    const ns = await namespace("router");
    for (const o of c.objects(ns)) await kube().create(o);
    await deploy(c, ns, steps(c));
    await setImage(ns, NAME, `${NAME}:2`);
    const pauseAt = steps(c).length - 1;
    const paused = await waitForRollout(
      ns,
      NAME,
      "paused at 25%",
      (s) => s.phase === "Paused" && s.currentStepIndex === pauseAt,
      90_000,
    );
    expect(paused.canary?.weights?.canary.weight).toBe(25);
    const r = await getRollout(ns, NAME);
    expect(r.metadata.finalizers).toContain("ramp.dev/traffic-routing");

    await kube().delete("ramp.dev/v1alpha1", "Rollout", NAME, ns);
    await eventually(
      "the Rollout gone",
      async () => {
        try {
          await getRollout(ns, NAME);
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      },
      60_000,
    );
    const route = await kube().get("gateway.networking.k8s.io/v1", "HTTPRoute", NAME, ns);
    const rules = (spec(route).rules ?? []) as { name?: string; backendRefs?: { name: string; weight?: number }[] }[];
    expect(JSON.stringify(rules)).not.toContain("ramp-managed-");
    const weights = Object.fromEntries(rules.flatMap((rule) => rule.backendRefs ?? []).map((b) => [b.name, b.weight]));
    expect(weights, JSON.stringify(rules)).toEqual({ [STABLE]: 100, [CANARY]: 0 });
  });

  // The lists of routes: every listed object is set alike, and GRPCRoutes (which the simulator does
  // not send traffic through) are checked by what Ramp wrote into them.
  const httpRoute = (ns: string, name: string) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name, namespace: ns },
    spec: {
      parentRefs: [{ name: "gw" }],
      hostnames: [`${name}.example.com`],
      rules: [{ backendRefs: [{ name: STABLE, port: 80, weight: 100 }] }],
    },
  });
  const grpcRoute = (ns: string, name: string) => ({
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "GRPCRoute",
    metadata: { name, namespace: ns },
    spec: {
      parentRefs: [{ name: "gw" }],
      rules: [{ matches: [{ method: { service: "shop.Cart" } }], backendRefs: [{ name: STABLE, port: 9090, weight: 100 }] }],
    },
  });
  const ingress = (ns: string, name: string) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name, namespace: ns },
    spec: {
      ingressClassName: "nginx",
      rules: [
        {
          host: `${name}.example.com`,
          http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: STABLE, port: { number: 80 } } } }] },
        },
      ],
    },
  });
  type Rules = { name?: string; backendRefs?: { name: string; weight?: number }[] }[];
  const grpcRules = async (ns: string) =>
    (spec(await kube().get("gateway.networking.k8s.io/v1", "GRPCRoute", "web-grpc", ns)).rules ?? []) as Rules;
  const weightsOf = (rules: Rules) =>
    Object.fromEntries(rules.filter((r) => !r.name).flatMap((r) => (r.backendRefs ?? []).map((b) => [b.name, b.weight])));

  it.concurrent.for([
    {
      name: "gatewayAPI.httpRoutes and grpcRoutes",
      objects: (ns: string) => [httpRoute(ns, "web-a"), httpRoute(ns, "web-b"), grpcRoute(ns, "web-grpc")],
      hosts: (ns: string) => [`HTTPRoute/${ns}/web-a`, `HTTPRoute/${ns}/web-b`],
      trafficRouting: { gatewayAPI: { httpRoutes: [{ name: "web-a" }, { name: "web-b" }], grpcRoutes: [{ name: "web-grpc" }] } },
      header: true,
    },
    {
      name: "nginx.stableIngresses",
      objects: (ns: string) => [ingress(ns, "web-a"), ingress(ns, "web-b")],
      hosts: (ns: string) => [`Ingress/${ns}/web-a`, `Ingress/${ns}/web-b`],
      trafficRouting: { nginx: { stableIngresses: ["web-a", "web-b"] } },
      header: false,
    },
  ])("$name: each listed route at 25%, then back to stable at abort", { timeout: 240_000 }, async (c, { expect }) => {
    const ns = await namespace("router");
    for (const o of [...twoServices(ns), ...c.objects(ns)]) await kube().create(o);
    const lists = { ...c, mirror: false };
    const canarySteps = steps(lists);
    await deploy(lists, ns, canarySteps);
    await setImage(ns, NAME, `${NAME}:2`);
    const pauseAt = canarySteps.length - 1;
    await waitForRollout(ns, NAME, "paused", (s) => s.phase === "Paused" && s.currentStepIndex === pauseAt, 90_000);
    await sleep(1500); // the simulator re-reads the routes every 500 ms
    for (const during of await Promise.all(c.hosts(ns).map(byService))) {
      const share = plain(during.canary) / (plain(during.stable) + plain(during.canary));
      expect(share, JSON.stringify(during)).toBeGreaterThan(0.25 - SHARE_TOLERANCE);
      expect(share, JSON.stringify(during)).toBeLessThan(0.25 + SHARE_TOLERANCE);
    }
    if (c.header) {
      const rules = await grpcRules(ns);
      expect(weightsOf(rules), JSON.stringify(rules)).toEqual({ [STABLE]: 75, [CANARY]: 25 });
      expect(rules[0]?.name, JSON.stringify(rules)).toBe("ramp-managed-beta");
    }

    const aborted = await ramp("abort", NAME, "-n", ns);
    expect(aborted.code, aborted.stderr).toBe(0);
    await waitForRollout(ns, NAME, "aborted", (s) => s.phase === "Degraded", 60_000);
    await sleep(1500);
    for (const after of await Promise.all(c.hosts(ns).map(byService))) {
      expect(after.canary.requests, JSON.stringify(after)).toBe(0);
      expect(after.stable.requests, JSON.stringify(after)).toBeGreaterThan(0);
    }
    if (c.header) {
      const rules = await grpcRules(ns);
      expect(weightsOf(rules), JSON.stringify(rules)).toEqual({ [STABLE]: 100, [CANARY]: 0 });
      expect(JSON.stringify(rules)).not.toContain("ramp-managed-");
    }
  });
});
