// The traffic simulator: polls the routing objects and the pods behind them, sends a steady
// simulated request rate to every host split the way the routes say, and exports the metric
// shapes real clusters have (Istio, NGINX Ingress, and a generic http_* family) on /metrics.
import { createServer, type Server } from "node:http";
import { Counter, Histogram, Registry } from "prom-client";
import { isNotFound, KubeClient } from "../../kube/client.ts";
import { type ClusterView, type PodBehaviour, readyPods } from "./backends.ts";
import {
  type Backend,
  choose,
  type DestinationRuleObject,
  type Host,
  type HTTPRouteObject,
  httpRouteHost,
  type IngressObject,
  nginxHosts,
  requestKinds,
  type TrafficSplitObject,
  trafficSplitHost,
  type VirtualServiceObject,
  virtualServiceHost,
} from "./routes.ts";

export interface SimulatorOptions {
  kubeconfig: string;
  port: number;
  /** Requests per second per host. */
  rate?: number;
  /** Share of requests per header route that carry its headers. */
  headerShare?: number;
  pollMs?: number;
  random?: () => number;
}

/** Counts per host and destination Service, for tests and `ramp dev` users. */
export interface Stats {
  [hostId: string]: {
    [service: string]: { requests: number; errors: number; noEndpoints: number; mirrored: number; withHeaders: number };
  };
}

const MS_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const S_BUCKETS = MS_BUCKETS.map((b) => b / 1000);

/** The series the simulator exports, in `registry`. */
export function simulatorMetrics(registry: Registry) {
  const istioLabels = [
    "reporter",
    "destination_service_name",
    "destination_service_namespace",
    "destination_workload",
    "destination_workload_namespace",
    "destination_canonical_revision",
    "response_code",
  ];
  const nginxLabels = ["namespace", "ingress", "service", "canary", "status", "host", "method", "path"];
  const httpLabels = ["namespace", "service", "pod_template_hash", "code"];
  return {
    istioRequests: new Counter({
      name: "istio_requests_total",
      help: "Requests (Istio shape)",
      labelNames: istioLabels,
      registers: [registry],
    }),
    istioDuration: new Histogram({
      name: "istio_request_duration_milliseconds",
      help: "Request duration in ms (Istio shape)",
      labelNames: istioLabels,
      buckets: MS_BUCKETS,
      registers: [registry],
    }),
    nginxRequests: new Counter({
      name: "nginx_ingress_controller_requests",
      help: "Requests (ingress-nginx shape)",
      labelNames: nginxLabels,
      registers: [registry],
    }),
    nginxDuration: new Histogram({
      name: "nginx_ingress_controller_request_duration_seconds",
      help: "Request duration in s (ingress-nginx shape)",
      labelNames: nginxLabels,
      buckets: S_BUCKETS,
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "Requests per backend",
      labelNames: httpLabels,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "Request duration in s per backend",
      labelNames: httpLabels,
      buckets: S_BUCKETS,
      registers: [registry],
    }),
    noEndpoints: new Counter({
      name: "ramp_sim_requests_without_endpoints_total",
      help: "Requests routed to a Service with no ready endpoints (answered 503)",
      labelNames: ["namespace", "service"],
      registers: [registry],
    }),
  };
}

export class Simulator {
  readonly registry = new Registry();
  private readonly m = simulatorMetrics(this.registry);
  private readonly kube: KubeClient;
  private view: ClusterView = { endpointSlices: [], pods: [], replicaSets: [] };
  private hosts: Host[] = [];
  private stats: Stats = {};
  private owed = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private server?: Server;
  private lastTick = Date.now();
  private readonly random: () => number;

  private readonly opts: SimulatorOptions;

  constructor(opts: SimulatorOptions) {
    this.opts = opts;
    this.kube = new KubeClient({ kubeconfig: opts.kubeconfig, fieldManager: "ramp-simulator" });
    this.random = opts.random ?? Math.random;
  }

  private async listOrEmpty<T>(apiVersion: string, kind: string): Promise<T[]> {
    try {
      return (await this.kube.list(apiVersion, kind)) as T[];
    } catch (err) {
      if (isNotFound(err)) return []; // the cluster does not serve that router
      throw err;
    }
  }

  /** Re-reads the cluster; a failed read keeps the last view (the simulator never stops). */
  async refresh(): Promise<void> {
    try {
      const [routes, virtualServices, destinationRules, ingresses, splits, endpointSlices, pods, replicaSets] = await Promise.all(
        [
          this.listOrEmpty<HTTPRouteObject>("gateway.networking.k8s.io/v1", "HTTPRoute"),
          this.listOrEmpty<VirtualServiceObject>("networking.istio.io/v1", "VirtualService"),
          this.listOrEmpty<DestinationRuleObject>("networking.istio.io/v1", "DestinationRule"),
          this.listOrEmpty<IngressObject>("networking.k8s.io/v1", "Ingress"),
          // The one version the upstream CRD (smi-sdk-go v0.5.0) serves.
          this.listOrEmpty<TrafficSplitObject>("split.smi-spec.io/v1alpha4", "TrafficSplit"),
          this.listOrEmpty<ClusterView["endpointSlices"][number]>("discovery.k8s.io/v1", "EndpointSlice"),
          this.listOrEmpty<ClusterView["pods"][number]>("v1", "Pod"),
          this.listOrEmpty<ClusterView["replicaSets"][number]>("apps/v1", "ReplicaSet"),
        ],
      );
      this.view = { endpointSlices, pods, replicaSets };
      this.hosts = [
        ...routes.map(httpRouteHost),
        ...virtualServices.map((vs) => virtualServiceHost(vs, destinationRules)),
        ...nginxHosts(ingresses),
        ...splits.map(trafficSplitHost),
      ];
    } catch (err) {
      console.error(`simulator: could not read the cluster: ${(err as Error).message}`);
    }
  }

  private latency(p: PodBehaviour): number {
    // Box-Muller: a normal spread around the configured latency.
    const z = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
    return Math.max(0.1, p.latencyMs + z * p.jitterMs);
  }

  private count(host: Host, service: string, field: keyof Stats[string][string]): void {
    const byService = this.stats[host.id] ?? {};
    const counts = byService[service] ?? { requests: 0, errors: 0, noEndpoints: 0, mirrored: 0, withHeaders: 0 };
    counts[field] += 1;
    byService[service] = counts;
    this.stats[host.id] = byService;
  }

  /** One request reaching a backend: the pod answers as its template says, and every shape of
   * metric that would see it records it. */
  private serve(host: Host, backend: Backend, canaryIngress: string | undefined, mirrored: boolean): void {
    const pods = readyPods(this.view, backend);
    const pod = pods[Math.floor(this.random() * pods.length)];
    const code = pod ? (this.random() < pod.errorRate ? "500" : "200") : "503";
    const ms = pod ? this.latency(pod) : 1;
    if (!pod) {
      this.m.noEndpoints.inc({ namespace: backend.namespace, service: backend.service });
      this.count(host, backend.service, "noEndpoints");
    }
    if (code !== "200") this.count(host, backend.service, "errors");
    if (mirrored) this.count(host, backend.service, "mirrored");
    const http = { namespace: backend.namespace, service: backend.service, pod_template_hash: pod?.podTemplateHash ?? "", code };
    this.m.httpRequests.inc(http);
    this.m.httpDuration.observe(http, ms / 1000);
    if (host.source === "istio" || host.source === "smi") {
      const istio = {
        reporter: "destination",
        destination_service_name: backend.service,
        destination_service_namespace: backend.namespace,
        destination_workload: pod?.workload ?? "unknown",
        destination_workload_namespace: backend.namespace,
        destination_canonical_revision: pod?.podTemplateHash ?? "unknown",
        response_code: code,
      };
      this.m.istioRequests.inc(istio);
      this.m.istioDuration.observe(istio, ms);
    }
    if (host.source === "nginx" && !mirrored) {
      const nginx = {
        namespace: host.namespace,
        ingress: canaryIngress ?? host.ingress ?? "",
        service: backend.service,
        canary: canaryIngress ? backend.service : "",
        status: code,
        host: "",
        method: "GET",
        path: "/",
      };
      this.m.nginxRequests.inc(nginx);
      this.m.nginxDuration.observe(nginx, ms / 1000);
    }
  }

  /** Sends what each host is owed since the last tick. */
  tick(now = Date.now()): void {
    const seconds = (now - this.lastTick) / 1000;
    this.lastTick = now;
    const rate = this.opts.rate ?? 100;
    for (const host of this.hosts) {
      for (const kind of requestKinds(host, this.opts.headerShare ?? 0.1)) {
        const key = `${host.id}\n${JSON.stringify(kind.headers)}`;
        const owed = (this.owed.get(key) ?? 0) + rate * kind.share * seconds;
        const n = Math.floor(owed);
        this.owed.set(key, owed - n);
        for (let i = 0; i < n; i++) {
          const picked = choose(host, kind.headers, this.random());
          if (!picked) continue;
          this.count(host, picked.destination.service, "requests");
          if (Object.keys(kind.headers).length) this.count(host, picked.destination.service, "withHeaders");
          this.serve(host, picked.destination, picked.destination.canaryIngress, false);
          const mirror = picked.route.mirror;
          if (mirror && this.random() * 100 < mirror.percent) this.serve(host, mirror, undefined, true);
        }
      }
    }
  }

  async start(): Promise<void> {
    await this.refresh();
    this.lastTick = Date.now();
    this.timers.push(setInterval(() => void this.refresh(), this.opts.pollMs ?? 500));
    this.timers.push(setInterval(() => this.tick(), 100));
    this.server = createServer((req, res) => {
      if (req.url === "/metrics") {
        void this.registry.metrics().then((text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text));
      } else if (req.url === "/stats" && req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ hosts: this.hosts, stats: this.stats }));
      } else if (req.url === "/stats/reset" && req.method === "POST") {
        this.stats = {};
        res.writeHead(204).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(this.opts.port, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
