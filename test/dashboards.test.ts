// Every PromQL query of every dashboard (panels, variables, annotations) returns data from the dev
// cluster's Prometheus while rollouts run: one Rollout per traffic source (Gateway API, Istio,
// NGINX) paused mid-canary after a step analysis, the simulator sending traffic, and the real
// controller scraped as the `ramp-controller` job. The dashboards' variables are substituted with
// those Rollouts, Grafana's intervals with fixed windows.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../src/kube/client.ts";
import { dashboardQueries, loadDashboards } from "../src/server/dashboards.ts";
import { cluster, eventually, kube, namespace } from "./helpers.ts";
import { type ControllerProcess, rollout, service, setImage, startController, waitForRollout } from "./rollouts.ts";

const INSTANCE = `dash-${randomBytes(3).toString("hex")}`;
const NAME = "web";
const STABLE = `${NAME}-stable`;
const CANARY = `${NAME}-canary`;
const JOB = "ramp-controller";

interface Source {
  dashboard: string;
  objects: (ns: string) => KubeObject[];
  trafficRouting: Record<string, unknown>;
}

const SOURCES: Source[] = [
  {
    dashboard: "ramp-traffic-http.json",
    objects: (ns) => [
      {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { name: NAME, namespace: ns },
        spec: {
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
  },
  {
    dashboard: "ramp-traffic-istio.json",
    objects: (ns) => [
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
  },
  {
    dashboard: "ramp-traffic-nginx.json",
    objects: (ns) => [
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
  },
];

/** A step analysis on the simulator's traffic to the namespace, so the analysis series have runs, verdicts and values. */
const trafficTemplate = (ns: string): KubeObject => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "AnalysisTemplate",
  metadata: { name: "traffic", namespace: ns },
  spec: {
    metrics: [
      {
        name: "requests-per-second",
        interval: "2s",
        count: 2,
        successCondition: "result >= 0",
        // `or vector(0)`: a measurement before the simulator's first scrape is 0, not no data (which
        // would pause the rollout Inconclusive at the analysis step on a loaded machine).
        provider: { prometheus: { query: `sum(rate(http_requests_total{namespace="${ns}"}[30s])) or vector(0)` } },
      },
    ],
  },
});

/** The query with Grafana's variables substituted; `$1` (label_replace) and unknown names stay. */
const substitute = (expr: string, values: Record<string, string>) =>
  expr.replace(/\$(\w+)/g, (whole, name: string) => values[name] ?? whole);

/** Whether the query has a series with a number (not NaN) as its value; one by canary and
 * stable (it shows {{role}}) needs both. */
async function hasData(query: string, byRole: boolean): Promise<boolean> {
  const res = await fetch(`${cluster().prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`${body.error}: ${query}`);
  const numbers = (body.data?.result ?? []).filter((r) => Number.isFinite(Number(r.value[1])));
  if (!byRole) return numbers.length > 0;
  const roles = new Set(numbers.map((r) => r.metric.role));
  return roles.has("stable") && roles.has("canary");
}

describe("dashboards on the dev cluster", () => {
  let controller: ControllerProcess;
  const namespaces = new Map<string, string>();

  beforeAll(async () => {
    controller = await startController([
      "--instance-id",
      INSTANCE,
      "--no-leader-elect",
      "--no-notifications",
      "--prometheus-url",
      cluster().prometheusUrl,
      // The port the dev Prometheus scrapes as the ramp-controller job.
      "--metrics-port",
      String(cluster().ports.controllerMetrics),
    ]);
  }, 120_000);
  afterAll(async () => {
    await controller?.stop();
  });

  it("every panel, variable and annotation query returns data while canaries run", { timeout: 600_000 }, async () => {
    await Promise.all(
      SOURCES.map(async (source) => {
        const ns = await namespace("dash");
        namespaces.set(source.dashboard, ns);
        for (const o of [service(ns, STABLE, NAME), service(ns, CANARY, NAME), trafficTemplate(ns), ...source.objects(ns)])
          await kube().create(o);
        const r = rollout(
          ns,
          NAME,
          {
            replicas: 2,
            strategy: {
              canary: {
                stableService: STABLE,
                canaryService: CANARY,
                scaleDownDelaySeconds: 2,
                trafficRouting: source.trafficRouting,
                steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: "traffic" }] } }, { pause: {} }],
              },
            },
          },
          { "ramp.dev/controller-instance-id": INSTANCE },
        );
        await kube().create(r);
        await waitForRollout(ns, NAME, "first revision healthy", (s) => s.phase === "Healthy", 180_000);
        // The new version fails a few requests, so the error-rate panels have 5xx to show.
        await setImage(ns, NAME, `${NAME}:2`, { SIM_ERROR_RATE: "0.05" });
        await waitForRollout(
          ns,
          NAME,
          "paused after its analysis",
          (s) => s.phase === "Paused" && s.currentStepIndex === 2 && s.canary?.weights?.canary.weight === 50,
          240_000,
        );
      }),
    );

    const http = namespaces.get("ramp-traffic-http.json") as string;
    const queries = loadDashboards().flatMap(({ file, dashboard }) => {
      const values = {
        job: JOB,
        namespace: namespaces.get(file) ?? http,
        rollout: NAME,
        __rate_interval: "1m",
        __interval: "5m",
        __range: "1h",
      };
      return dashboardQueries(dashboard).map((q) => ({
        where: `${file}: ${q.where}`,
        query: substitute(q.expr, values),
        byRole: q.shows.includes("role"),
      }));
    });
    expect(queries.length).toBeGreaterThan(40);
    // Each traffic dashboard's request rate, error rate and three latencies split canary from stable.
    expect(queries.filter((q) => q.byRole)).toHaveLength(3 * 5);
    const missing = new Set(queries.map((q) => `${q.where}\n${q.query}`));
    await eventually(
      "every dashboard query to return data",
      async () => {
        await Promise.all(
          queries.map(async (q) => {
            const key = `${q.where}\n${q.query}`;
            if (missing.has(key) && (await hasData(q.query, q.byRole))) missing.delete(key);
          }),
        );
        return missing.size === 0;
      },
      180_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; still without data:\n${[...missing].join("\n\n")}`);
    });
  });
});
