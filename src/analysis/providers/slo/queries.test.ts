import { describe, expect, it } from "vitest";
import { errorRateQuery, errorsQuery, latencyQuery, promqlDuration, requestsQuery, type SloTarget } from "./queries.ts";

const istio: SloTarget = { source: "istio", service: "reviews", namespace: "shop" };
const nginx: SloTarget = { source: "nginx", service: "web-canary", namespace: "shop", ingress: "web-canary" };
const http: SloTarget = { source: "http", service: "checkout", namespace: "shop", podTemplateHash: "6d4f8c" };
const MINUTE = 60_000;

describe("slo queries", () => {
  it.each([
    {
      name: "istio requests (destination reports only)",
      query: requestsQuery(istio, MINUTE),
      expected:
        'sum(increase(istio_requests_total{reporter="destination",destination_service_name="reviews",destination_workload_namespace="shop"}[1m]))',
    },
    {
      name: "istio error rate",
      query: errorRateQuery(istio, 5 * MINUTE),
      expected:
        '(sum(rate(istio_requests_total{reporter="destination",destination_service_name="reviews",destination_workload_namespace="shop",response_code=~"5.."}[5m])) or vector(0)) / sum(rate(istio_requests_total{reporter="destination",destination_service_name="reviews",destination_workload_namespace="shop"}[5m]))',
    },
    {
      name: "istio 5xx count",
      query: errorsQuery(istio, 5 * MINUTE),
      expected:
        'sum(increase(istio_requests_total{reporter="destination",destination_service_name="reviews",destination_workload_namespace="shop",response_code=~"5.."}[5m]))',
    },
    {
      name: "istio latency, milliseconds to seconds",
      query: latencyQuery(istio, MINUTE, 0.99),
      expected:
        'histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination",destination_service_name="reviews",destination_workload_namespace="shop"}[1m]))) / 1000',
    },
    {
      name: "nginx requests of one ingress",
      query: requestsQuery(nginx, MINUTE),
      expected:
        'sum(increase(nginx_ingress_controller_requests{namespace="shop",service="web-canary",ingress="web-canary"}[1m]))',
    },
    {
      name: "nginx error rate without an ingress",
      query: errorRateQuery({ ...nginx, ingress: undefined }, MINUTE),
      expected:
        '(sum(rate(nginx_ingress_controller_requests{namespace="shop",service="web-canary",status=~"5.."}[1m])) or vector(0)) / sum(rate(nginx_ingress_controller_requests{namespace="shop",service="web-canary"}[1m]))',
    },
    {
      name: "nginx latency",
      query: latencyQuery(nginx, 90_000, 0.5),
      expected:
        'histogram_quantile(0.5, sum by (le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{namespace="shop",service="web-canary",ingress="web-canary"}[90s])))',
    },
    {
      name: "http requests of one ReplicaSet",
      query: requestsQuery(http, MINUTE),
      expected: 'sum(increase(http_requests_total{namespace="shop",service="checkout",pod_template_hash="6d4f8c"}[1m]))',
    },
    {
      name: "http error rate of every ReplicaSet",
      query: errorRateQuery({ ...http, podTemplateHash: undefined }, MINUTE),
      expected:
        '(sum(rate(http_requests_total{namespace="shop",service="checkout",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{namespace="shop",service="checkout"}[1m]))',
    },
    {
      name: "http latency",
      query: latencyQuery(http, 2 * 3_600_000, 0.9),
      expected:
        'histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="checkout",pod_template_hash="6d4f8c"}[2h])))',
    },
    {
      name: "label values are PromQL string literals: they cannot change the query",
      query: requestsQuery({ source: "http", service: 'x"} or vector(1e9) or {a="', namespace: "a\\b\nc" }, MINUTE),
      expected: 'sum(increase(http_requests_total{namespace="a\\\\b\\nc",service="x\\"} or vector(1e9) or {a=\\""}[1m]))',
    },
  ])("$name", ({ query, expected }) => expect(query).toBe(expected));
});

describe("promqlDuration", () => {
  it.each([
    { ms: 60_000, expected: "1m" },
    { ms: 90_000, expected: "90s" },
    { ms: 3_600_000, expected: "1h" },
    { ms: 5_400_000, expected: "90m" },
    { ms: 250, expected: "250ms" },
    { ms: 0, expected: "1ms" },
  ])("$ms ms is $expected", ({ ms, expected }) => expect(promqlDuration(ms)).toBe(expected));
});
