import { describe, expect, it } from "vitest";
import { readyPods } from "./backends.ts";
import {
  choose,
  type Host,
  httpRouteHost,
  matches,
  nginxHosts,
  requestKinds,
  trafficSplitHost,
  virtualServiceHost,
} from "./routes.ts";

const meta = (name: string, annotations?: Record<string, string>) => ({
  name,
  namespace: "shop",
  ...(annotations ? { annotations } : {}),
});

/** The share of requests with `headers` that each Service gets, over evenly spread picks. */
function shares(host: Host, headers: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  const n = 1000;
  for (let i = 0; i < n; i++) {
    const d = choose(host, headers, (i + 0.5) / n)?.destination.service ?? "(none)";
    out[d] = (out[d] ?? 0) + 1 / n;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 100)]));
}

const gateway = httpRouteHost({
  metadata: meta("checkout"),
  spec: {
    rules: [
      {
        backendRefs: [
          { name: "stable", weight: 80 },
          { name: "canary", weight: 20 },
        ],
      },
      {
        matches: [{ headers: [{ name: "X-Beta", value: "1" }] }],
        backendRefs: [{ name: "canary", weight: 1 }],
        filters: [{ type: "RequestMirror", requestMirror: { backendRef: { name: "canary" }, percent: 10 } }],
      },
    ],
  },
});

const istio = virtualServiceHost(
  {
    metadata: meta("payments"),
    spec: {
      http: [
        { match: [{ headers: { "x-beta": { exact: "1" } } }], route: [{ destination: { host: "payments", subset: "canary" } }] },
        {
          route: [
            { destination: { host: "payments", subset: "stable" }, weight: 70 },
            { destination: { host: "payments.shop.svc.cluster.local", subset: "canary" }, weight: 30 },
          ],
          mirror: { host: "payments", subset: "canary" },
          mirrorPercentage: { value: 5 },
        },
      ],
    },
  },
  [
    {
      metadata: meta("payments"),
      spec: {
        host: "payments",
        subsets: [
          { name: "stable", labels: { "ramp.dev/pod-template-hash": "aaa" } },
          { name: "canary", labels: { "ramp.dev/pod-template-hash": "bbb" } },
        ],
      },
    },
  ],
);

const ingress = (name: string, service: string, annotations?: Record<string, string>) => ({
  metadata: meta(name, annotations),
  spec: { rules: [{ host: "search.example.com", http: { paths: [{ backend: { service: { name: service } } }] } }] },
});
const [nginx] = nginxHosts([
  ingress("search", "search-stable"),
  ingress("search-search-canary", "search-canary", {
    "nginx.ingress.kubernetes.io/canary": "true",
    "nginx.ingress.kubernetes.io/canary-weight": "25",
    "nginx.ingress.kubernetes.io/canary-by-header": "X-Canary",
  }),
]);

const smi = trafficSplitHost({
  metadata: meta("api"),
  spec: {
    service: "api",
    backends: [
      { service: "api-stable", weight: 60 },
      { service: "api-canary", weight: "40" },
    ],
  },
});

describe("where requests go", () => {
  it.each<{ router: string; host: Host; headers: Record<string, string>; expected: Record<string, number> }>([
    { router: "gateway, plain requests", host: gateway, headers: {}, expected: { stable: 80, canary: 20 } },
    { router: "gateway, header route", host: gateway, headers: { "x-beta": "1" }, expected: { canary: 100 } },
    { router: "istio, plain requests", host: istio, headers: {}, expected: { payments: 100 } },
    { router: "istio, header route", host: istio, headers: { "x-beta": "1" }, expected: { payments: 100 } },
    { router: "nginx, by weight", host: nginx as Host, headers: {}, expected: { "search-stable": 75, "search-canary": 25 } },
    {
      router: "nginx, header always",
      host: nginx as Host,
      headers: { "x-canary": "always" },
      expected: { "search-canary": 100 },
    },
    { router: "nginx, header never", host: nginx as Host, headers: { "x-canary": "never" }, expected: { "search-stable": 100 } },
    { router: "smi", host: smi, headers: {}, expected: { "api-stable": 60, "api-canary": 40 } },
  ])("$router", ({ host, headers, expected }) => {
    expect(shares(host, headers)).toEqual(expected);
  });

  it("keeps Istio subsets apart by the DestinationRule's labels", () => {
    const route = istio.routes[1];
    expect(route?.destinations.map((d) => [d.subsetLabels, d.weight])).toEqual([
      [{ "ramp.dev/pod-template-hash": "aaa" }, 70],
      [{ "ramp.dev/pod-template-hash": "bbb" }, 30],
    ]);
    expect(route?.mirror).toMatchObject({
      service: "payments",
      percent: 5,
      subsetLabels: { "ramp.dev/pod-template-hash": "bbb" },
    });
  });

  it("reads the HTTPRoute mirror filter's percentage", () => {
    expect(gateway.routes[0]?.mirror).toEqual({ service: "canary", namespace: "shop", percent: 10 });
  });

  it.each([
    {
      name: "all weights zero",
      host: trafficSplitHost({ metadata: meta("z"), spec: { backends: [{ service: "a", weight: 0 }] } }),
    },
    {
      name: "no rule matches",
      host: { ...gateway, routes: gateway.routes.slice(0, 1).map((r) => ({ ...r, headers: { h: { exact: "x" } } })) },
    },
  ])("sends nowhere when $name", ({ host }) => {
    expect(choose(host, {}, 0.5)).toBeUndefined();
  });
});

describe("matching", () => {
  it.each([
    { m: { exact: "1" }, value: "1", ok: true },
    { m: { exact: "1" }, value: "10", ok: false },
    { m: { prefix: "be" }, value: "beta", ok: true },
    { m: { regex: "1|true" }, value: "true", ok: true },
    { m: { regex: "1|true" }, value: "true1", ok: false },
    { m: { exact: "1" }, value: undefined, ok: false },
  ])("$m against $value is $ok", ({ m, value, ok }) => {
    expect(matches(m, value)).toBe(ok);
  });

  it("sends each header route its share of matching requests", () => {
    expect(requestKinds(gateway, 0.1)).toEqual([
      { headers: {}, share: 0.9 },
      { headers: { "x-beta": "1" }, share: 0.1 },
    ]);
  });
});

describe("backends", () => {
  const view = {
    endpointSlices: [
      {
        metadata: { namespace: "shop", labels: { "kubernetes.io/service-name": "payments" } },
        endpoints: [
          { conditions: { ready: true }, targetRef: { kind: "Pod", name: "p1" } },
          { conditions: { ready: false }, targetRef: { kind: "Pod", name: "p2" } },
          { conditions: { ready: true }, targetRef: { kind: "Pod", name: "p3" } },
        ],
      },
    ],
    pods: ["p1", "p2", "p3"].map((name, i) => ({
      metadata: {
        name,
        namespace: "shop",
        labels: { "ramp.dev/pod-template-hash": i === 2 ? "bbb" : "aaa" },
        ownerReferences: [{ kind: "ReplicaSet", name: "payments-aaa" }],
      },
      spec: { containers: [{ env: [{ name: "SIM_ERROR_RATE", value: i === 2 ? "0.5" : "bad" }] }] },
    })),
    replicaSets: [
      { metadata: { name: "payments-aaa", namespace: "shop", ownerReferences: [{ kind: "Rollout", name: "payments" }] } },
    ],
  };

  it("keeps only ready endpoints and the subset's pods, with their behaviour", () => {
    expect(readyPods(view, { service: "payments", namespace: "shop" }).map((p) => [p.pod, p.errorRate, p.workload])).toEqual([
      ["p1", 0, "payments"],
      ["p3", 0.5, "payments"],
    ]);
    expect(
      readyPods(view, { service: "payments", namespace: "shop", subsetLabels: { "ramp.dev/pod-template-hash": "bbb" } }).map(
        (p) => p.pod,
      ),
    ).toEqual(["p3"]);
    expect(readyPods(view, { service: "other", namespace: "shop" })).toEqual([]);
  });
});
