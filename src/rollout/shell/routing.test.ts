// The traffic step on a fake apiserver, through the Gateway API router: a route is written only when
// it differs, the router's verdict is read as an observation, and its refusals are sorted into spec
// problems (never better on a retry) and traffic problems (retried).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import { SpecProblem, TrafficProblem } from "./context.ts";
import { gatewaySpec, httpRoute, rolloutObject, routeShape, type ShellFixture, shellFixture, spec } from "./fixtures.ts";
import { observeTraffic, route, routerOf } from "./routing.ts";

const desired = (weight: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic => ({
  weight,
  canaryHash: "h2",
  stableHash: "h1",
  headerRoutes: [],
  mirrorRoutes: [],
  ...extra,
});
const ROUTE = "/apis/gateway.networking.k8s.io/v1/namespaces/ns/httproutes/web";
const beta = { name: "beta", match: [{ headerName: "x-beta", headerValue: { exact: "1" } }] };

describe("the traffic step", () => {
  let f: ShellFixture;
  const router = () => routerOf(f.ctx, rolloutObject(gatewaySpec()));
  beforeAll(async () => {
    f = await shellFixture();
  });
  afterAll(() => f.apiserver.stop());

  it("a Rollout without a router routes by replica counts: no router, no verdict", async () => {
    expect(routerOf(f.ctx, rolloutObject(spec()))).toBeUndefined();
    expect(await observeTraffic(undefined)).toEqual({});
  });

  it("writes the weights and header routes, then nothing while they are as desired", async () => {
    f.apiserver.put(httpRoute());
    await route(router(), desired(30, { headerRoutes: [beta] }));
    expect(routeShape(f.apiserver.object("gateway.networking.k8s.io/v1", "HTTPRoute", "web", "ns"))).toEqual({
      weights: { "web-stable": 70, "web-canary": 30 },
      managed: ["ramp-managed-beta"],
    });
    const before = f.apiserver.requests.length;
    await route(router(), desired(30, { headerRoutes: [beta] }));
    expect(f.apiserver.calls.slice(before)).toEqual([`GET ${ROUTE}`]);
    // Told again without them, Ramp's routes go.
    await route(router(), desired(30));
    expect(routeShape(f.apiserver.object("gateway.networking.k8s.io/v1", "HTTPRoute", "web", "ns")).managed).toEqual([]);
  });

  it("nothing desired (no router, or a plan without traffic) asks nothing", async () => {
    const before = f.apiserver.requests.length;
    await route(router(), undefined);
    await route(undefined, desired(10));
    expect(f.apiserver.requests.length).toBe(before);
  });

  it.each<{ accepted: boolean | undefined; verdict: boolean | undefined }>([
    { accepted: true, verdict: true },
    { accepted: false, verdict: false },
    { accepted: undefined, verdict: undefined },
  ])("a Gateway that says Accepted=$accepted is observed as trafficVerified $verdict", async ({ accepted, verdict }) => {
    f.apiserver.put(httpRoute("ns", accepted));
    expect(await observeTraffic(router())).toEqual(verdict === undefined ? {} : { verified: verdict });
  });

  it("a route that cannot be read is not verified, and its failure is handed back to report later, not thrown", async () => {
    f.apiserver.refuse(ROUTE, 404);
    try {
      const { verified, failure } = await observeTraffic(router());
      expect(verified).toBe(false);
      expect(failure).toBeInstanceOf(TrafficProblem);
      expect(failure?.message).toMatch(/HTTPRoute "web" not found in namespace "ns"/);
    } finally {
      f.apiserver.allow(ROUTE);
    }
  });

  it.each<{
    name: string;
    setUp: () => void;
    desired: DesiredTraffic;
    problem: typeof SpecProblem | typeof TrafficProblem;
    message: RegExp;
  }>([
    {
      name: "a route that does not exist (yet) is retried",
      setUp: () => f.apiserver.refuse(ROUTE, 404),
      desired: desired(10),
      problem: TrafficProblem,
      message: /HTTPRoute "web" not found in namespace "ns"/,
    },
    {
      name: "an apiserver error is retried",
      setUp: () => f.apiserver.refuse(ROUTE, 500),
      desired: desired(10),
      problem: TrafficProblem,
      message: /refused/,
    },
    {
      name: "a mirror match the router cannot express is a spec problem",
      setUp: () => f.apiserver.put(httpRoute()),
      desired: desired(10, { mirrorRoutes: [{ name: "m", percentage: 10, match: [{ method: { prefix: "G" } }] }] }),
      problem: SpecProblem,
      message: /HTTPRoute method matches are exact/,
    },
  ])("$name", async ({ setUp, desired: d, problem, message }) => {
    setUp();
    try {
      const err = await route(router(), d).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(problem);
      expect((err as Error).message).toMatch(message);
    } finally {
      f.apiserver.allow(ROUTE);
    }
  });

  it("a route in a namespace that grants the Rollout nothing is a spec problem, for sync and verify alike", async () => {
    f.apiserver.put(httpRoute("edge"));
    const other = routerOf(f.ctx, rolloutObject(gatewaySpec("edge")));
    for (const step of [() => route(other, desired(10)), () => observeTraffic(other)]) {
      const err = await step().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SpecProblem);
      expect((err as Error).message).toMatch(/ReferenceGrant/);
    }
  });
});
