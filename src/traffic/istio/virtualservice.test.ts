import { describe, expect, it } from "vitest";
import { desired } from "../fixtures.ts";
import {
  type Destination,
  type DestinationRuleSpec,
  desiredDestinationRule,
  desiredVirtualService,
  type HTTPRoute,
  type Targets,
  type VirtualServiceConfig,
} from "./virtualservice.ts";

const host: Targets = { mode: "host", stable: "web-stable", canary: "web-canary" };
const subset: Targets = { mode: "subset", stable: "stable", canary: "canary" };
const config = (targets: Targets, routes?: string[]): VirtualServiceConfig => ({
  name: "web",
  targets,
  ...(routes ? { routes } : {}),
});
const to = (h: string, weight?: number, sub?: string): Destination => ({
  destination: { host: h, port: { number: 80 }, ...(sub ? { subset: sub } : {}) },
  ...(weight !== undefined ? { weight } : {}),
});
const primary = (...route: Destination[]): HTTPRoute => ({
  name: "primary",
  match: [{ uri: { prefix: "/" } }],
  route,
  timeout: "5s",
});
const docs: HTTPRoute = { name: "docs", match: [{ uri: { prefix: "/docs" } }], route: [to("docs")] };

describe("desiredVirtualService: weights", () => {
  it.each([
    {
      name: "host mode: sets both weights, keeping other routes and fields",
      http: [docs, primary(to("web-stable", 100), to("web-canary", 0))],
      targets: host,
      want: [docs, primary(to("web-stable", 75), to("web-canary", 25))],
    },
    {
      name: "host mode: adds the canary beside stable, with the same host form",
      http: [primary(to("web-stable.shop.svc.cluster.local"))],
      targets: host,
      want: [primary(to("web-stable.shop.svc.cluster.local", 75), to("web-canary.shop.svc.cluster.local", 25))],
    },
    {
      name: "subset mode: sets the subsets' weights",
      http: [primary(to("web", 100, "stable"), to("web", 0, "canary"))],
      targets: subset,
      want: [primary(to("web", 75, "stable"), to("web", 25, "canary"))],
    },
    {
      name: "subset mode: adds the canary subset",
      http: [primary(to("web", 100, "stable"))],
      targets: subset,
      want: [primary(to("web", 75, "stable"), to("web", 25, "canary"))],
    },
    {
      name: "drops Ramp's earlier routes",
      http: [{ name: "ramp-managed-old", route: [to("web-canary", 100)] }, primary(to("web-stable", 100), to("web-canary", 0))],
      targets: host,
      want: [primary(to("web-stable", 75), to("web-canary", 25))],
    },
  ])("$name", ({ http, targets, want }) => {
    expect(desiredVirtualService({ hosts: ["web"], http }, config(targets), desired(25))).toEqual({ hosts: ["web"], http: want });
  });

  it("weights only the named routes", () => {
    const other = { ...primary(to("web-stable", 100), to("web-canary", 0)), name: "other" };
    const spec = desiredVirtualService({ http: [primary(to("web-stable", 100)), other] }, config(host, ["primary"]), desired(25));
    expect(spec.http).toEqual([primary(to("web-stable", 75), to("web-canary", 25)), other]);
  });
});

describe("desiredVirtualService: managed routes", () => {
  const weighted = primary(to("web-stable", 90), to("web-canary", 10));
  it.each([
    {
      name: "a header route narrows the user's matches (header names lowercased) and goes to the canary",
      extra: { headerRoutes: [{ name: "beta", match: [{ headerName: "X-Beta", headerValue: { exact: "1" } }] }] },
      want: {
        ...weighted,
        name: "ramp-managed-beta",
        match: [{ uri: { prefix: "/" }, headers: { "x-beta": { exact: "1" } } }],
        route: [to("web-canary", 100)],
      },
    },
    {
      name: "a mirror route keeps the split and mirrors its percentage to the canary",
      extra: {
        mirrorRoutes: [{ name: "shadow", percentage: 20, match: [{ method: { exact: "GET" }, path: { prefix: "/api" } }] }],
      },
      want: {
        ...weighted,
        name: "ramp-managed-shadow",
        match: [{ uri: { prefix: "/api" }, method: { exact: "GET" } }],
        mirror: { host: "web-canary", port: { number: 80 } },
        mirrorPercentage: { value: 20 },
      },
    },
  ])("$name", ({ extra, want }) => {
    const spec = desiredVirtualService(
      { http: [primary(to("web-stable", 100), to("web-canary", 0))] },
      config(host),
      desired(10, extra),
    );
    expect(spec.http).toEqual([want, weighted]);
    // Told again without them, Ramp's routes go and the user's stay.
    expect(desiredVirtualService(spec, config(host), desired(10, {})).http).toEqual([weighted]);
  });

  it("in subset mode a header route goes to the canary subset", () => {
    const spec = desiredVirtualService(
      { http: [{ route: [to("web", 100, "stable")] }] },
      config(subset),
      desired(0, { headerRoutes: [{ name: "b", match: [{ headerName: "x", headerValue: { regex: "1|true" } }] }] }),
    );
    expect(spec.http?.[0]).toEqual({
      name: "ramp-managed-b",
      match: [{ headers: { x: { regex: "1|true" } } }],
      route: [to("web", 100, "canary")],
    });
  });
});

describe("desiredVirtualService: errors", () => {
  it.each([
    {
      name: "no route to the Services",
      http: [docs],
      routes: undefined,
      error: 'VirtualService "web" has no http route to Service "web-stable" or "web-canary"',
    },
    {
      name: "a named route that is not there",
      http: [primary(to("web-stable"))],
      routes: ["main"],
      error: 'VirtualService "web" has no http route named "main"',
    },
    {
      name: "a named route to other Services",
      http: [docs, primary(to("web-stable"))],
      routes: ["docs"],
      error: 'http route "docs" of VirtualService "web" routes to neither Service "web-stable" nor "web-canary"',
    },
  ])("$name", ({ http, routes, error }) => {
    expect(() => desiredVirtualService({ http }, config(host, routes), desired(10))).toThrow(error);
  });
});

describe("desiredDestinationRule", () => {
  const rule = (stable?: Record<string, string>, canary?: Record<string, string>): DestinationRuleSpec => ({
    host: "web",
    trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } },
    subsets: [
      ...(stable ? [{ name: "stable", labels: stable }] : []),
      ...(canary ? [{ name: "canary", labels: canary }] : []),
      { name: "legacy", labels: { version: "v0" } },
    ],
  });
  const hash = (h: string) => ({ app: "web", "ramp.dev/pod-template-hash": h });
  it.each([
    {
      name: "canary gets weight: it selects the new pods",
      spec: rule({ app: "web" }, { app: "web" }),
      extra: {},
      weight: 25,
      want: rule(hash("old"), hash("new")),
    },
    {
      name: "no traffic for the canary: it selects stable pods",
      spec: rule(hash("old"), hash("new")),
      extra: {},
      weight: 0,
      want: rule(hash("old"), hash("old")),
    },
    {
      name: "a header route alone makes it select the new pods",
      spec: rule(hash("old"), hash("old")),
      extra: { headerRoutes: [{ name: "b", match: [{ headerName: "x", headerValue: { exact: "1" } }] }] },
      weight: 0,
      want: rule(hash("old"), hash("new")),
    },
  ])("$name", ({ spec, extra, weight, want }) => {
    expect(desiredDestinationRule(spec, subset, desired(weight, extra))).toEqual(want);
  });

  it("adds missing subsets after the user's", () => {
    expect(desiredDestinationRule({ host: "web" }, subset, desired(10)).subsets).toEqual([
      { name: "stable", labels: { "ramp.dev/pod-template-hash": "old" } },
      { name: "canary", labels: { "ramp.dev/pod-template-hash": "new" } },
    ]);
  });
});
