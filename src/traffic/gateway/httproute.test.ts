import { describe, expect, it } from "vitest";
import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import { desired } from "../fixtures.ts";
import { accepted, desiredSpec, type HTTPRouteSpec, type RouteKind, type Rule } from "./httproute.ts";

const services = { stable: "web-stable", canary: "web-canary" };
const web = { kind: "HTTPRoute", name: "web" } as const;
const userRule = (stable: number | undefined, canary?: number): Rule => ({
  matches: [{ path: { type: "PathPrefix", value: "/" } }],
  backendRefs: [
    ...(stable !== undefined ? [{ name: "web-stable", port: 80, weight: stable }] : []),
    ...(canary !== undefined ? [{ name: "web-canary", port: 80, weight: canary }] : []),
  ],
});
const route = (...rules: Rule[]): HTTPRouteSpec => ({ parentRefs: [{ name: "gw" }], hostnames: ["web.example.com"], rules });
const docs: Rule = { matches: [{ path: { type: "PathPrefix", value: "/docs" } }], backendRefs: [{ name: "docs", port: 80 }] };
const beta = { name: "beta", match: [{ headerName: "X-Beta", headerValue: { exact: "1" } }] };

describe("desiredSpec: weights", () => {
  it.each([
    {
      name: "sets the weights, keeping other rules and fields",
      spec: route(userRule(100, 0), docs),
      weight: 25,
      want: route(userRule(75, 25), docs),
    },
    {
      name: "adds the canary when the rule names only stable",
      spec: route(userRule(100)),
      weight: 50,
      want: route(userRule(50, 50)),
    },
    {
      name: "adds stable when the rule names only the canary",
      spec: route(userRule(undefined, 0)),
      weight: 10,
      want: route({
        ...userRule(undefined, 10),
        backendRefs: [
          { name: "web-canary", port: 80, weight: 10 },
          { name: "web-stable", port: 80, weight: 90 },
        ],
      }),
    },
    { name: "is idempotent", spec: route(userRule(75, 25)), weight: 25, want: route(userRule(75, 25)) },
    { name: "back to stable", spec: route(userRule(50, 50)), weight: 0, want: route(userRule(100, 0)) },
    {
      name: "drops Ramp's earlier rules",
      spec: route({ name: "ramp-managed-old", backendRefs: [{ name: "web-canary", weight: 100 }] }, userRule(100, 0)),
      weight: 0,
      want: route(userRule(100, 0)),
    },
    {
      name: "keeps a user's rule that only looks like Ramp's",
      spec: route({ ...docs, name: "ramp-docs" }, userRule(100, 0)),
      weight: 0,
      want: route({ ...docs, name: "ramp-docs" }, userRule(100, 0)),
    },
  ])("$name", ({ spec, weight, want }) => {
    expect(desiredSpec(spec, services, desired(weight), web)).toEqual(want);
  });
});

describe("desiredSpec: managed rules", () => {
  const api: Rule = {
    matches: [
      { path: { type: "PathPrefix", value: "/api" } },
      { path: { type: "Exact", value: "/v1" }, headers: [{ name: "x-env", value: "prod", type: "Exact" }] },
    ],
    backendRefs: [
      { name: "web-stable", port: 80, weight: 100 },
      { name: "web-canary", port: 80, weight: 0 },
    ],
    filters: [{ type: "RequestHeaderModifier", requestHeaderModifier: { set: [{ name: "x-via", value: "gw" }] } }],
  };
  const split = [
    { name: "web-stable", port: 80, weight: 90 },
    { name: "web-canary", port: 80, weight: 10 },
  ];
  it.each([
    {
      name: "a header route narrows each of the user's matches and goes to the canary only",
      extra: { headerRoutes: [beta] },
      want: {
        ...api,
        name: "ramp-managed-beta",
        matches: [
          { path: { type: "PathPrefix", value: "/api" }, headers: [{ name: "X-Beta", value: "1", type: "Exact" }] },
          {
            path: { type: "Exact", value: "/v1" },
            headers: [
              { name: "x-env", value: "prod", type: "Exact" },
              { name: "X-Beta", value: "1", type: "Exact" },
            ],
          },
        ],
        backendRefs: [{ name: "web-canary", port: 80, weight: 100 }],
      },
    },
    {
      name: "prefix and regex header values become regular expressions",
      extra: {
        headerRoutes: [
          {
            name: "qa",
            match: [
              { headerName: "x-env", headerValue: { prefix: "qa." } },
              { headerName: "x-id", headerValue: { regex: "[0-9]+" } },
            ],
          },
        ],
      },
      want: {
        ...api,
        name: "ramp-managed-qa",
        matches: [
          {
            path: { type: "PathPrefix", value: "/api" },
            headers: [
              { name: "x-env", value: "^qa\\..*", type: "RegularExpression" },
              { name: "x-id", value: "[0-9]+", type: "RegularExpression" },
            ],
          },
          {
            path: { type: "Exact", value: "/v1" },
            headers: [
              { name: "x-env", value: "prod", type: "Exact" },
              { name: "x-env", value: "^qa\\..*", type: "RegularExpression" },
              { name: "x-id", value: "[0-9]+", type: "RegularExpression" },
            ],
          },
        ],
        backendRefs: [{ name: "web-canary", port: 80, weight: 100 }],
      },
    },
    {
      name: "a mirror route keeps the split and adds a RequestMirror filter with its percent",
      extra: {
        mirrorRoutes: [{ name: "shadow", percentage: 30, match: [{ method: { exact: "get" }, path: { prefix: "/api/v2" } }] }],
      },
      want: {
        ...api,
        name: "ramp-managed-shadow",
        matches: [
          { path: { type: "PathPrefix", value: "/api/v2" }, method: "GET" },
          {
            path: { type: "PathPrefix", value: "/api/v2" },
            method: "GET",
            headers: [{ name: "x-env", value: "prod", type: "Exact" }],
          },
        ],
        backendRefs: split,
        filters: [
          ...api.filters!,
          { type: "RequestMirror", requestMirror: { backendRef: { name: "web-canary", port: 80 }, percent: 30 } },
        ],
      },
    },
    {
      name: "a 100% mirror leaves percent out",
      extra: { mirrorRoutes: [{ name: "all", percentage: 100, match: [{ headers: { "x-mirror": { exact: "1" } } }] }] },
      want: {
        ...api,
        name: "ramp-managed-all",
        matches: [
          { path: { type: "PathPrefix", value: "/api" }, headers: [{ name: "x-mirror", value: "1", type: "Exact" }] },
          {
            path: { type: "Exact", value: "/v1" },
            headers: [
              { name: "x-env", value: "prod", type: "Exact" },
              { name: "x-mirror", value: "1", type: "Exact" },
            ],
          },
        ],
        backendRefs: split,
        filters: [...api.filters!, { type: "RequestMirror", requestMirror: { backendRef: { name: "web-canary", port: 80 } } }],
      },
    },
  ])("$name", ({ extra, want }) => {
    const spec = desiredSpec(route(api, docs), services, desired(10, extra), web);
    expect(spec.rules).toEqual([want, { ...api, backendRefs: split }, docs]);
    // Told again without them, Ramp's rules go and the user's stay.
    expect(desiredSpec(spec, services, desired(10, {}), web).rules).toEqual([{ ...api, backendRefs: split }, docs]);
  });

  it("puts header routes before mirror routes, and a rule without matches narrows all requests", () => {
    const spec = desiredSpec(
      route(userRule(100, 0)),
      services,
      desired(0, {
        headerRoutes: [beta],
        mirrorRoutes: [{ name: "m", percentage: 5, match: [{ headers: { a: { exact: "b" } } }] }],
      }),
      web,
    );
    expect(spec.rules?.map((r) => r.name)).toEqual(["ramp-managed-beta", "ramp-managed-m", undefined]);
    const bare = desiredSpec(
      route({ backendRefs: [{ name: "web-stable" }] }),
      services,
      desired(0, { headerRoutes: [beta] }),
      web,
    );
    expect(bare.rules?.[0]?.matches).toEqual([{ headers: [{ name: "X-Beta", value: "1", type: "Exact" }] }]);
  });
});

describe("desiredSpec: errors", () => {
  it.each([
    {
      name: "no rule to the Services",
      spec: route(docs),
      extra: {},
      error: 'HTTPRoute "web" has no rule with backendRefs to "web-stable" or "web-canary"; list both Services in a rule',
    },
    {
      name: "a method match that is not exact",
      spec: route(userRule(100, 0)),
      extra: { mirrorRoutes: [{ name: "m", percentage: 5, match: [{ method: { prefix: "G" } }] }] },
      error: 'HTTPRoute method matches are exact; setMirrorRoute "m" asks for a prefix or regex',
    },
    {
      name: "a GRPCRoute mirror matching an HTTP method",
      kind: "GRPCRoute",
      spec: route(userRule(100, 0)),
      extra: { mirrorRoutes: [{ name: "m", percentage: 5, match: [{ method: { exact: "GET" } }] }] },
      error: 'GRPCRoute "web" matches gRPC methods, not HTTP paths or methods; setMirrorRoute "m" can match headers only there',
    },
    {
      name: "more rules than Gateway API allows, with Ramp's",
      spec: route(userRule(100, 0), ...Array.from({ length: 15 }, () => docs)),
      extra: { headerRoutes: [beta] },
      error: `HTTPRoute "web" would have 17 rules (at most 16) with Ramp's 1 header and mirror rules; Gateway API refuses that`,
    },
    {
      name: "more matches in a managed rule than Gateway API allows",
      spec: route({
        ...userRule(100, 0),
        matches: Array.from({ length: 40 }, (_, i) => ({ path: { type: "Exact", value: `/${i}` } })),
      }),
      extra: {
        mirrorRoutes: [
          { name: "m", percentage: 5, match: [{ headers: { a: { exact: "1" } } }, { headers: { b: { exact: "1" } } }] },
        ],
      },
      error: `HTTPRoute "web" would have a rule with 80 matches (at most 64) with Ramp's 1 header and mirror rules`,
    },
    {
      name: "more matches in the route than Gateway API allows",
      spec: route({
        ...userRule(100, 0),
        matches: Array.from({ length: 50 }, (_, i) => ({ path: { type: "Exact", value: `/${i}` } })),
      }),
      extra: { headerRoutes: [beta, { ...beta, name: "beta2" }] },
      error: `HTTPRoute "web" would have 150 matches in all (at most 128) with Ramp's 2 header and mirror rules`,
    },
  ] as { name: string; kind?: RouteKind; spec: HTTPRouteSpec; extra: Partial<DesiredTraffic>; error: string }[])(
    "$name",
    ({ kind, spec, extra, error }) => {
      expect(() => desiredSpec(spec, services, desired(10, extra), { kind: kind ?? "HTTPRoute", name: "web" })).toThrow(error);
    },
  );
});

describe("desiredSpec: a GRPCRoute", () => {
  const grpcRule: Rule = {
    matches: [{ method: { type: "Exact", service: "shop.Cart" } }],
    backendRefs: [{ name: "web-stable", port: 9090, weight: 100 }],
  };
  const grpc = { kind: "GRPCRoute", name: "web" } as const;

  it("gets the weights and header routes an HTTPRoute would, its gRPC matches kept", () => {
    const spec = desiredSpec({ rules: [grpcRule] }, services, desired(25, { headerRoutes: [beta] }), grpc);
    const split = [
      { name: "web-stable", port: 9090, weight: 75 },
      { name: "web-canary", port: 9090, weight: 25 },
    ];
    expect(spec.rules).toEqual([
      {
        ...grpcRule,
        name: "ramp-managed-beta",
        matches: [{ method: { type: "Exact", service: "shop.Cart" }, headers: [{ name: "X-Beta", value: "1", type: "Exact" }] }],
        backendRefs: [{ name: "web-canary", port: 9090, weight: 100 }],
      },
      { ...grpcRule, backendRefs: split },
    ]);
  });

  it("mirrors by headers", () => {
    const mirror = { name: "m", percentage: 10, match: [{ headers: { "x-shadow": { exact: "1" } } }] };
    const spec = desiredSpec({ rules: [grpcRule] }, services, desired(0, { mirrorRoutes: [mirror] }), grpc);
    expect(spec.rules?.[0]?.filters).toEqual([
      { type: "RequestMirror", requestMirror: { backendRef: { name: "web-canary", port: 9090 }, percent: 10 } },
    ]);
  });
});

describe("accepted", () => {
  const parent = (status: string, observedGeneration?: number) => ({
    conditions: [{ type: "Accepted", status, ...(observedGeneration !== undefined ? { observedGeneration } : {}) }],
  });
  it.each([
    { name: "no status: cannot tell", status: undefined, want: undefined },
    { name: "no parents: cannot tell", status: { parents: [] }, want: undefined },
    { name: "accepted this generation", status: { parents: [parent("True", 2)] }, want: true },
    { name: "accepted, no generation reported", status: { parents: [parent("True")] }, want: true },
    { name: "only an older generation reported", status: { parents: [parent("True", 1)] }, want: undefined },
    { name: "one Gateway has not caught up", status: { parents: [parent("True", 2), parent("True", 1)] }, want: undefined },
    { name: "one Gateway refused", status: { parents: [parent("True", 2), parent("False", 2)] }, want: false },
  ])("$name", ({ status, want }) => {
    expect(accepted(status, 2)).toBe(want);
  });
});
