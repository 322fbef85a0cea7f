// Pure: the PromQL the `slo` shorthand runs for each metric family, with the labels real clusters
// (and the dev simulator) export.
export type SloSource = "istio" | "nginx" | "http";

/** Whose traffic: the canary's Service in its namespace, narrowed by Ingress or ReplicaSet hash. */
export interface SloTarget {
  source: SloSource;
  service: string;
  namespace: string;
  /** nginx only: the canary Ingress. */
  ingress?: string;
  /** http only: series of this ReplicaSet (pod_template_hash). */
  podTemplateHash?: string;
}

interface Family {
  requests: string;
  buckets: string;
  /** The label holding the HTTP status code. */
  status: string;
  /** Histogram bucket bounds per second (Istio's are milliseconds). */
  bucketsPerSecond: number;
  selector: (t: SloTarget) => Record<string, string | undefined>;
}

const FAMILIES: Record<SloSource, Family> = {
  istio: {
    requests: "istio_requests_total",
    buckets: "istio_request_duration_milliseconds_bucket",
    status: "response_code",
    bucketsPerSecond: 1000,
    // Both proxies of a call report it; the destination's report is the server's view.
    selector: (t) => ({
      reporter: "destination",
      destination_service_name: t.service,
      destination_workload_namespace: t.namespace,
    }),
  },
  nginx: {
    requests: "nginx_ingress_controller_requests",
    buckets: "nginx_ingress_controller_request_duration_seconds_bucket",
    status: "status",
    bucketsPerSecond: 1,
    selector: (t) => ({ namespace: t.namespace, service: t.service, ingress: t.ingress }),
  },
  http: {
    requests: "http_requests_total",
    buckets: "http_request_duration_seconds_bucket",
    status: "code",
    bucketsPerSecond: 1,
    selector: (t) => ({ namespace: t.namespace, service: t.service, pod_template_hash: t.podTemplateHash }),
  },
};

/** A PromQL string literal: Go's escapes, which JSON's are a subset of. */
const literal = (value: string) => JSON.stringify(value);

function selector(t: SloTarget, extra = ""): string {
  const matchers = Object.entries(FAMILIES[t.source].selector(t))
    .filter(([, value]) => value !== undefined && value !== "")
    .map(([name, value]) => `${name}=${literal(value as string)}`);
  return `{${[...matchers, ...(extra ? [extra] : [])].join(",")}}`;
}

const UNITS: [string, number][] = [
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** A PromQL duration for `ms` milliseconds, in the largest unit that divides it. */
export function promqlDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  const [unit, size] = UNITS.find(([, size]) => whole % size === 0) ?? ["ms", 1];
  return `${whole / size}${unit}`;
}

/** Requests in the window, to check minRequests. */
export function requestsQuery(t: SloTarget, windowMs: number): string {
  return `sum(increase(${FAMILIES[t.source].requests}${selector(t)}[${promqlDuration(windowMs)}]))`;
}

/** 5xx answers in the window; no 5xx series counts 0 (countOf). */
export function errorsQuery(t: SloTarget, windowMs: number): string {
  const family = FAMILIES[t.source];
  return `sum(increase(${family.requests}${selector(t, `${family.status}=~"5.."`)}[${promqlDuration(windowMs)}]))`;
}

/** Share of 5xx answers over the window. Without any 5xx series the numerator would be empty (no
 * data): `or vector(0)` makes it zero, while no traffic at all stays no data. */
export function errorRateQuery(t: SloTarget, windowMs: number): string {
  const family = FAMILIES[t.source];
  const w = promqlDuration(windowMs);
  const errors = `sum(rate(${family.requests}${selector(t, `${family.status}=~"5.."`)}[${w}]))`;
  return `(${errors} or vector(0)) / sum(rate(${family.requests}${selector(t)}[${w}]))`;
}

/** The `quantile` latency over the window in seconds, interpolated within histogram buckets. */
export function latencyQuery(t: SloTarget, windowMs: number, quantile: number): string {
  const family = FAMILIES[t.source];
  const q = `histogram_quantile(${quantile}, sum by (le) (rate(${family.buckets}${selector(t)}[${promqlDuration(windowMs)}])))`;
  return family.bucketsPerSecond === 1 ? q : `${q} / ${family.bucketsPerSecond}`;
}
