import { describe, expect, it } from "vitest";
import type { DesiredTraffic } from "../router.ts";
import { accepted, desiredSpec, type HTTPRouteSpec, withoutManagedRules } from "./httproute.ts";

const services = { stable: "web-stable", canary: "web-canary" };
const userRule = (stable: number, canary?: number) => ({
  matches: [{ path: { type: "PathPrefix", value: "/" } }],
  backendRefs: [
    { name: "web-stable", port: 80, weight: stable },
    ...(canary !== undefined ? [{ name: "web-canary", port: 80, weight: canary }] : []),
  ],
});
const route = (...rules: HTTPRouteSpec["rules"] & object): HTTPRouteSpec => ({
  parentRefs: [{ name: "gw" }],
  hostnames: ["web.example.com"],
  rules,
});
const desired = (weight: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic => ({
  weight,
  canaryHash: "new",
  stableHash: "old",
  headerRoutes: [],
  mirrorRoutes: [],
  ...extra,
});
const other = { backendRefs: [{ name: "docs", port: 80 }] };

describe("desiredSpec", () => {
  it.each([
    {
      name: "sets the weights, keeping everything else",
      spec: route(userRule(100, 0), other),
      want: route(userRule(75, 25), other),
    },
    { name: "adds the canary when the rule names only stable", spec: route(userRule(100)), want: route(userRule(50, 50)) },
    { name: "is idempotent", spec: route(userRule(75, 25)), want: route(userRule(75, 25)) },
  ])("$name", ({ spec, want }) => {
    const weight = want.rules?.[0]?.backendRefs?.[1]?.weight ?? 0;
    expect(desiredSpec(spec, services, desired(weight), "web")).toEqual(want);
  });

  it("puts header and mirror routes first, named ramp-<route>, and replaces its earlier ones", () => {
    const stale = { name: "ramp-old", backendRefs: [{ name: "web-canary", port: 80, weight: 100 }] };
    const spec = desiredSpec(
      route(stale, userRule(100, 0)),
      services,
      desired(10, {
        headerRoutes: [{ name: "beta", match: [{ headerName: "X-Beta", headerValue: { exact: "1" } }] }],
        mirrorRoutes: [
          { name: "shadow", percentage: 30, match: [{ path: { prefix: "/api" }, headers: { "x-env": { prefix: "qa." } } }] },
        ],
      }),
      "web",
    );
    expect(spec.rules).toEqual([
      {
        name: "ramp-beta",
        matches: [{ headers: [{ name: "X-Beta", value: "1", type: "Exact" }] }],
        backendRefs: [{ name: "web-canary", port: 80, weight: 100 }],
      },
      {
        name: "ramp-shadow",
        matches: [
          {
            path: { type: "PathPrefix", value: "/api" },
            headers: [{ name: "x-env", value: "^qa\\..*", type: "RegularExpression" }],
          },
        ],
        backendRefs: [
          { name: "web-stable", port: 80, weight: 90 },
          { name: "web-canary", port: 80, weight: 10 },
        ],
        filters: [{ type: "RequestMirror", requestMirror: { backendRef: { name: "web-canary", port: 80 }, percent: 30 } }],
      },
      userRule(90, 10),
    ]);
    expect(withoutManagedRules(spec).rules).toEqual([userRule(90, 10)]);
  });

  it("refuses a route with no rule to the Services, naming it", () => {
    expect(() => desiredSpec(route(other), services, desired(10), "web")).toThrow(
      'HTTPRoute "web" has no rule with backendRefs to "web-stable" or "web-canary"',
    );
  });
});

describe("accepted", () => {
  const parent = (status: string, observedGeneration?: number) => ({
    conditions: [{ type: "Accepted", status, ...(observedGeneration !== undefined ? { observedGeneration } : {}) }],
  });
  it.each([
    { name: "no status: cannot tell", status: undefined, generation: 2, want: undefined },
    { name: "accepted this generation", status: { parents: [parent("True", 2)] }, generation: 2, want: true },
    { name: "only an older generation reported", status: { parents: [parent("True", 1)] }, generation: 2, want: undefined },
    { name: "one Gateway refused", status: { parents: [parent("True", 2), parent("False", 2)] }, generation: 2, want: false },
  ])("$name", ({ status, generation, want }) => {
    expect(accepted(status, generation)).toBe(want);
  });
});
