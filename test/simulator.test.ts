// The traffic simulator on the dev cluster: its series reach Prometheus, its error ratio follows the
// pods' SIM_ERROR_RATE, and its split follows an HTTPRoute's weights as they change.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";

/** A ReplicaSet and a Service for one version of `app`. */
async function version(ns: string, name: string, env: Record<string, string>, replicas = 2): Promise<void> {
  const labels = { app: name };
  await kube().create({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [{ name: "app", image: "app:1", env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })) }],
        },
      },
    },
  });
  await kube().create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns },
    spec: { selector: labels, ports: [{ port: 80 }] },
  });
  await eventually(`${name} ready`, async () => {
    const rs = await kube().get<KubeObject & { status?: { readyReplicas?: number } }>("apps/v1", "ReplicaSet", name, ns);
    return rs.status?.readyReplicas === replicas;
  });
}

const httpRoute = (ns: string, weights: Record<string, number>): KubeObject => ({
  apiVersion: "gateway.networking.k8s.io/v1",
  kind: "HTTPRoute",
  metadata: { name: "app", namespace: ns },
  spec: { rules: [{ backendRefs: Object.entries(weights).map(([name, weight]) => ({ name, port: 80, weight })) }] },
});

async function promQuery(query: string): Promise<number | undefined> {
  const res = await fetch(`${cluster().prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const value = body.data.result[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

interface Counts {
  requests: number;
  noEndpoints: number;
}
async function stats(ns: string): Promise<Record<string, Counts>> {
  const body = (await (await fetch(`${cluster().simulatorUrl}/stats`)).json()) as {
    stats: Record<string, Record<string, Counts>>;
  };
  return body.stats[`HTTPRoute/${ns}/app`] ?? {};
}

/** Counts over a fresh window of `seconds`. */
async function window(ns: string, seconds: number): Promise<Record<string, Counts>> {
  const before = await stats(ns);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await stats(ns);
  return Object.fromEntries(
    Object.entries(after).map(([svc, c]) => [
      svc,
      { requests: c.requests - (before[svc]?.requests ?? 0), noEndpoints: c.noEndpoints - (before[svc]?.noEndpoints ?? 0) },
    ]),
  );
}

describe("traffic simulator", () => {
  it("exports series that Prometheus scrapes, and the error ratio matches SIM_ERROR_RATE", async () => {
    const ns = await namespace("sim");
    await version(ns, "app", { SIM_ERROR_RATE: "0.2", SIM_LATENCY_MS: "120", SIM_LATENCY_JITTER_MS: "40" }, 3);
    await kube().create(httpRoute(ns, { app: 100 }));
    // 100 req/s over 30 s is about 3000 requests: the ratio's standard deviation is about 0.007,
    // so ±0.03 is over 4 standard deviations.
    const q = (sel: string) => `sum(increase(http_requests_total{namespace="${ns}"${sel}}[30s]))`;
    await eventually("30 s of traffic in Prometheus", async () => ((await promQuery(q(""))) ?? 0) > 2500, 90_000);
    const ratio = await promQuery(`${q(',code=~"5.."')} / ${q("")}`);
    expect(ratio).toBeGreaterThan(0.17);
    expect(ratio).toBeLessThan(0.23);
    const p50 = await promQuery(
      `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="${ns}"}[30s])))`,
    );
    expect(p50).toBeGreaterThan(0.1);
    expect(p50).toBeLessThan(0.25);
  }, 120_000);

  it("splits traffic by the HTTPRoute's weights, and follows a change", async () => {
    const ns = await namespace("split");
    await version(ns, "stable", {});
    await version(ns, "canary", {});
    await kube().create(httpRoute(ns, { stable: 80, canary: 20 }));
    await eventually("traffic on the route", async () => (await stats(ns)).stable?.requests);
    // 100 req/s for 8 s: 800 requests; for a 20% share the standard deviation is 1.4 points, so
    // ±6 points is over 4 standard deviations.
    const share = (w: Record<string, Counts>) =>
      (w.canary?.requests ?? 0) / ((w.canary?.requests ?? 0) + (w.stable?.requests ?? 0));
    const before = await window(ns, 8);
    expect(share(before)).toBeGreaterThan(0.14);
    expect(share(before)).toBeLessThan(0.26);
    await kube().apply(httpRoute(ns, { stable: 50, canary: 50 }), { force: true });
    await new Promise((r) => setTimeout(r, 1500)); // the simulator polls every 500 ms
    const after = await window(ns, 8);
    expect(share(after)).toBeGreaterThan(0.44);
    expect(share(after)).toBeLessThan(0.56);
    expect((after.stable?.noEndpoints ?? 0) + (after.canary?.noEndpoints ?? 0)).toBe(0);
  }, 60_000);

  it("answers 503 for a Service with no ready endpoints", async () => {
    const ns = await namespace("empty");
    await kube().create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "nobody", namespace: ns },
      spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
    });
    await kube().create(httpRoute(ns, { nobody: 1 }));
    const counts = await eventually("requests to nobody", async () => {
      const c = (await stats(ns)).nobody;
      return c && c.requests > 20 && c;
    });
    expect(counts.noEndpoints).toBe(counts.requests);
  });
});
