import { describe, expect, it } from "vitest";
import { desired, rolloutOwner } from "../fixtures.ts";
import { type CanaryConfig, canaryIngressName, desiredCanaryIngress, type Ingress } from "./ingress.ts";

const P = "nginx.ingress.kubernetes.io";
const owner = rolloutOwner;
const config: CanaryConfig = { annotationPrefix: P, services: { stable: "web-stable", canary: "web-canary" }, owner };
const path = (p: string, service: string) => ({
  path: p,
  pathType: "Prefix",
  backend: { service: { name: service, port: { number: 80 } } },
});
const stable: Ingress = {
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    name: "web",
    namespace: "shop",
    annotations: { "kubernetes.io/ingress.class": "nginx", [`${P}/rewrite-target`]: "/" },
  },
  spec: {
    ingressClassName: "nginx",
    tls: [{ hosts: ["web.example.com"], secretName: "web-tls" }],
    rules: [
      { host: "web.example.com", http: { paths: [path("/", "web-stable"), path("/docs", "docs")] } },
      { host: "docs.example.com", http: { paths: [path("/", "docs")] } },
    ],
  },
};
const canarySpec = {
  ingressClassName: "nginx",
  tls: [{ hosts: ["web.example.com"], secretName: "web-tls" }],
  rules: [{ host: "web.example.com", http: { paths: [path("/", "web-canary")] } }],
};
const canary = (annotations: Record<string, string>, extra: Partial<Ingress["metadata"]> = {}, prefix = P): Ingress => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: {
    name: "web-web-canary",
    namespace: "shop",
    annotations: { "kubernetes.io/ingress.class": "nginx", [`${prefix}/canary`]: "true", ...annotations },
    ownerReferences: [owner],
    ...extra,
  },
  spec: canarySpec,
});
const header = (headerValue: Record<string, string>, name = "beta") => ({ name, match: [{ headerName: "X-Beta", headerValue }] });

describe("desiredCanaryIngress", () => {
  it.each([
    { name: "weight only", existing: undefined, cfg: config, extra: {}, want: canary({ [`${P}/canary-weight`]: "25" }) },
    {
      name: "header route with an exact value",
      existing: undefined,
      cfg: config,
      extra: { headerRoutes: [header({ exact: "1" })] },
      want: canary({ [`${P}/canary-weight`]: "25", [`${P}/canary-by-header`]: "X-Beta", [`${P}/canary-by-header-value`]: "1" }),
    },
    {
      name: "header route with a prefix: a pattern",
      existing: undefined,
      cfg: config,
      extra: { headerRoutes: [header({ prefix: "qa." })] },
      want: canary({
        [`${P}/canary-weight`]: "25",
        [`${P}/canary-by-header`]: "X-Beta",
        [`${P}/canary-by-header-pattern`]: "^qa\\..*",
      }),
    },
    {
      name: "an existing canary keeps others' labels and annotations, loses Ramp's stale ones",
      existing: canary(
        { [`${P}/canary-weight`]: "5", [`${P}/canary-by-header`]: "X-Old", "example.com/team": "shop" },
        { labels: { team: "shop" }, resourceVersion: "7" },
      ),
      cfg: config,
      extra: {},
      want: canary(
        { [`${P}/canary-weight`]: "25", "example.com/team": "shop" },
        { labels: { team: "shop" }, resourceVersion: "7" },
      ),
    },
    {
      name: "another prefix, and additional annotations (a bare key goes under the prefix)",
      existing: undefined,
      cfg: {
        ...config,
        annotationPrefix: "custom.io",
        additionalAnnotations: { "canary-by-cookie": "beta", "example.com/x": "y" },
      },
      extra: {},
      want: canary(
        { "custom.io/canary-weight": "25", "custom.io/canary-by-cookie": "beta", "example.com/x": "y" },
        {},
        "custom.io",
      ),
    },
  ])("$name", ({ existing, cfg, extra, want }) => {
    expect(desiredCanaryIngress(stable, existing, "web-web-canary", cfg, desired(25, extra))).toEqual(want);
  });

  it("routes a default backend to the canary when it is the stable Service", () => {
    const only: Ingress = { ...stable, spec: { defaultBackend: { service: { name: "web-stable", port: { number: 80 } } } } };
    expect(desiredCanaryIngress(only, undefined, "c", config, desired(0)).spec).toEqual({
      defaultBackend: { service: { name: "web-canary", port: { number: 80 } } },
    });
  });

  it.each([
    {
      name: "a mirror route",
      ingress: stable,
      existing: undefined,
      extra: { mirrorRoutes: [{ name: "shadow", percentage: 10, match: [{ path: { prefix: "/" } }] }] },
      error: 'the NGINX Ingress router cannot mirror requests (setMirrorRoute "shadow")',
    },
    {
      name: "two header matches",
      ingress: stable,
      existing: undefined,
      extra: { headerRoutes: [header({ exact: "1" }), header({ exact: "2" }, "alpha")] },
      error: 'an NGINX canary Ingress matches one header; setHeaderRoute "beta", "alpha" ask for 2',
    },
    {
      name: "no backend for the stable Service",
      ingress: { ...stable, spec: { rules: [{ host: "docs.example.com", http: { paths: [path("/", "docs")] } }] } },
      existing: undefined,
      extra: {},
      error: 'Ingress "web" has no backend for Service "web-stable"',
    },
    {
      name: "a canary Ingress that belongs to someone else",
      ingress: stable,
      existing: canary({}, { ownerReferences: [{ ...owner, uid: "other" }] }),
      extra: {},
      error: 'Ingress "web-web-canary" in namespace "shop" exists and does not belong to Rollout "web"',
    },
  ])("refuses $name", ({ ingress, existing, extra, error }) => {
    expect(() => desiredCanaryIngress(ingress, existing, "web-web-canary", config, desired(10, extra))).toThrow(error);
  });
});

it("names the canary Ingress after the Rollout and the Ingress", () => {
  expect(canaryIngressName("web", "public")).toBe("web-public-canary");
});
