// The metric providers against a real Prometheus holding a deterministic history
// (test/prometheus-fixture.ts), and against small local HTTP servers for what a healthy Prometheus
// does not do: refuse, hang, answer garbage, echo credentials. No cluster needed.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judgeProvider } from "../src/analysis/providers/judge/provider.ts";
import { prometheusProvider } from "../src/analysis/providers/prometheus/provider.ts";
import { providerFor } from "../src/analysis/providers/registry.ts";
import { sloProvider } from "../src/analysis/providers/slo/provider.ts";
import type { MeasureContext, ProviderOutcome } from "../src/analysis/types.ts";
import { analysisTemplateSpec, type Metric } from "../src/api/analysis.ts";
import { freePort } from "../src/dev/processes.ts";
import { loopbackDoor } from "./helpers.ts";
import { FIXTURE, NOW, type PrometheusFixture, p90, requestCount, startPrometheusFixture } from "./prometheus-fixture.ts";

let prometheus: PrometheusFixture;
beforeAll(async () => {
  prometheus = await startPrometheusFixture();
});
afterAll(async () => {
  await prometheus?.stop();
});

/** A metric as the apiserver stores it: parsed by the schema, defaults applied. */
function metric(provider: Record<string, unknown>): Metric {
  const parsed = analysisTemplateSpec.parse({ metrics: [{ name: "m", successCondition: "true", provider }] }).metrics[0];
  if (!parsed) throw new Error("no metric");
  return parsed;
}

const context = (extra: Partial<MeasureContext> = {}): MeasureContext => ({
  args: {},
  now: NOW,
  defaultPrometheusUrl: prometheus.url,
  outbound: loopbackDoor,
  ...extra,
});

function expectValue(outcome: ProviderOutcome) {
  if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
  return expect(outcome.value);
}

const { namespace, hashes } = FIXTURE;

describe("prometheus provider", () => {
  it.each([
    { name: "one sample", query: `${FIXTURE.value}{instance="a"}`, value: 120, resultType: "vector", series: "1" },
    { name: "a scalar", query: `scalar(${FIXTURE.value}{instance="a"}) * 2`, value: 240, resultType: "scalar", series: "1" },
    { name: "several series, by labels", query: FIXTURE.value, value: [120, 1120], resultType: "vector", series: "2" },
    {
      name: "an empty result: no data",
      query: `${FIXTURE.value}{instance="nope"}`,
      value: undefined,
      resultType: "vector",
      series: "0",
    },
    {
      name: "0/0 is NaN",
      query: `rate(${FIXTURE.idle}[1m]) / rate(${FIXTURE.idle}[1m])`,
      value: Number.NaN,
      resultType: "vector",
      series: "1",
    },
    {
      name: "+Inf stays infinite",
      query: `${FIXTURE.value}{instance="b"} / 0`,
      value: Number.POSITIVE_INFINITY,
      resultType: "vector",
      series: "1",
    },
    {
      name: "a range selector",
      query: `${FIXTURE.value}{instance="a"}[1m]`,
      value: [116, 117, 118, 119, 120],
      resultType: "matrix",
      series: "1",
    },
  ])("instant: $name", async ({ query, value, resultType, series }) => {
    const outcome = await prometheusProvider.measure(metric({ prometheus: { query } }), context());
    expectValue(outcome).toEqual(value);
    expect(outcome.ok && outcome.verdict).toBeUndefined();
    expect(outcome.ok && outcome.metadata).toEqual({ query, address: prometheus.url, resultType, series });
  });

  it.each([
    { name: "one series", query: `${FIXTURE.value}{instance="a"}`, window: "1m", value: [116, 117, 118, 119, 120], series: "1" },
    {
      name: "several series, one after the other",
      query: FIXTURE.value,
      window: "30s",
      value: [118, 119, 120, 1118, 1119, 1120],
      series: "2",
    },
    { name: "nothing", query: `${FIXTURE.value}{instance="nope"}`, window: "1m", value: undefined, series: "0" },
  ])("range: $name", async ({ query, window, value, series }) => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { query, range: { window, step: "15s" } } }),
      context(),
    );
    expectValue(outcome).toEqual(value);
    expect(outcome.ok && outcome.metadata).toMatchObject({ resultType: "matrix", series });
  });

  it("uses the metric's own address before the default", async () => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { address: prometheus.url, query: `${FIXTURE.value}{instance="a"}` } }),
      context({ defaultPrometheusUrl: "http://127.0.0.1:1" }),
    );
    expectValue(outcome).toBe(120);
  });

  it("substitutes arguments into the query", async () => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { query: `${FIXTURE.value}{instance="{{args.instance}}"}` } }),
      context({ args: { instance: "b" } }),
    );
    expectValue(outcome).toBe(1120);
    expect(outcome.ok && outcome.metadata?.query).toBe(`${FIXTURE.value}{instance="b"}`);
  });

  it("fails on an unknown argument, naming the field", async () => {
    const outcome = await prometheusProvider.measure(metric({ prometheus: { query: "{{args.nope}}" } }), context());
    expect(outcome).toMatchObject({ ok: false, code: "BAD_ARGUMENT" });
    expect(!outcome.ok && outcome.message).toMatch(/^query: .*nope/);
  });

  it.each([
    { name: "a syntax error", query: "sum(", code: "PROMETHEUS_BAD_QUERY", message: /HTTP 400.*parse error/ },
    { name: "a string", query: '"text"', code: "PROMETHEUS_NON_NUMERIC", message: /string \("text"\)/ },
  ])("fails on $name with $code", async ({ query, code, message }) => {
    const outcome = await prometheusProvider.measure(metric({ prometheus: { query } }), context());
    expect(outcome).toMatchObject({ ok: false, code, metadata: { query, address: prometheus.url } });
    expect(!outcome.ok && outcome.message).toMatch(message);
  });

  it("fails without any address", async () => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { query: "1" } }),
      context({ defaultPrometheusUrl: undefined }),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_NO_ADDRESS" });
  });

  it("fails on a refused connection", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const outcome = await prometheusProvider.measure(metric({ prometheus: { address: closed, query: "1" } }), context());
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_UNREACHABLE" });
    expect(!outcome.ok && outcome.message).toMatch(/ECONNREFUSED/);
  });
});

/** What a local server answers under each path; it remembers the headers it was sent. */
const ANSWERS: Record<string, (headers: IncomingHttpHeaders) => { status: number; type: string; body: string } | undefined> = {
  ok: () => ({
    status: 200,
    type: "application/json",
    body: '{"status":"success","data":{"resultType":"scalar","result":[1,"7"]}}',
  }),
  hang: () => undefined,
  proxy502: () => ({ status: 502, type: "text/html", body: "<html>Bad Gateway</html>" }),
  garbage: () => ({ status: 200, type: "application/json", body: "{not json" }),
  "echo-credentials": (headers) => ({
    status: 400,
    type: "application/json",
    body: JSON.stringify({
      status: "error",
      errorType: "bad_data",
      error: `unexpected ${headers.authorization} and ${headers["x-api-key"]}`,
    }),
  }),
};

describe("prometheus provider against a local server", () => {
  let server: Server;
  let base: string;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      const answer = ANSWERS[req.url?.split("/")[1] ?? ""]?.(req.headers);
      if (answer) res.writeHead(answer.status, { "content-type": answer.type }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const SECRETS: Record<string, string> = { "shop/prom/token": "s3cret-bearer-token", "shop/prom/password": "s3cret-password" };
  const readSecret = async (ns: string, name: string, key: string) => {
    const value = SECRETS[`${ns}/${name}/${key}`];
    if (value === undefined) throw new Error(`secrets "${name}" not found`);
    return value;
  };
  const withSecrets = () => context({ namespace: "shop", readSecret });
  const leaks = (outcome: ProviderOutcome) =>
    [...Object.values(SECRETS), "s3cret-api-key", Buffer.from("ramp:s3cret-password").toString("base64")].filter((s) =>
      JSON.stringify(outcome).includes(s),
    );

  it("times out on a server that never answers", async () => {
    const started = Date.now();
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { address: `${base}/hang`, query: "1", timeout: "300ms" } }),
      context(),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_TIMEOUT" });
    expect(!outcome.ok && outcome.message).toMatch(/within 0.3s/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("stops when the measurement is cancelled", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { address: `${base}/hang`, query: "1" } }),
      context({ signal: controller.signal }),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_ABORTED" });
  });

  it.each([
    { path: "proxy502", code: "PROMETHEUS_HTTP_ERROR", message: /HTTP 502/ },
    { path: "garbage", code: "PROMETHEUS_BAD_RESPONSE", message: /not answer with a Prometheus API response/ },
  ])("fails on $path with $code", async ({ path, code, message }) => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { address: `${base}/${path}`, query: "1" } }),
      context(),
    );
    expect(outcome).toMatchObject({ ok: false, code });
    expect(!outcome.ok && outcome.message).toMatch(message);
  });

  it("sends a bearer token from a Secret and headers from arguments, and shows neither", async () => {
    seen.length = 0;
    const outcome = await prometheusProvider.measure(
      metric({
        prometheus: {
          address: `${base}/ok`,
          query: "1",
          headers: [{ key: "X-Api-Key", value: "{{args.apiKey}}" }],
          auth: { bearerToken: { secretKeyRef: { name: "prom", key: "token" } } },
        },
      }),
      { ...withSecrets(), args: { apiKey: "s3cret-api-key" } },
    );
    expectValue(outcome).toBe(7);
    expect(seen[0]).toMatchObject({ authorization: "Bearer s3cret-bearer-token", "x-api-key": "s3cret-api-key" });
    expect(leaks(outcome)).toEqual([]);
  });

  it("sends basic auth with a password from a Secret", async () => {
    seen.length = 0;
    const outcome = await prometheusProvider.measure(
      metric({
        prometheus: {
          address: `${base}/ok`,
          query: "1",
          auth: { basic: { username: "ramp", passwordSecretRef: { name: "prom", key: "password" } } },
        },
      }),
      withSecrets(),
    );
    expectValue(outcome).toBe(7);
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from("ramp:s3cret-password").toString("base64")}`);
    expect(leaks(outcome)).toEqual([]);
  });

  it.each([
    { name: "a bearer token", auth: { bearerToken: { secretKeyRef: { name: "prom", key: "token" } } } },
    { name: "basic auth", auth: { basic: { username: "ramp", passwordSecretRef: { name: "prom", key: "password" } } } },
  ])("keeps $name out of messages, even when the server echoes it", async ({ auth }) => {
    const outcome = await prometheusProvider.measure(
      metric({
        prometheus: {
          address: `${base}/echo-credentials`,
          query: "1",
          headers: [{ key: "X-Api-Key", value: "s3cret-api-key" }],
          auth,
        },
      }),
      withSecrets(),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_BAD_QUERY" });
    expect(!outcome.ok && outcome.message).toMatch(/unexpected .*\*\*\* and \*\*\*/);
    expect(leaks(outcome)).toEqual([]);
  });

  it("keeps credentials out of the outcome when Prometheus is unreachable", async () => {
    const closed = `http://ramp:s3cret-password@127.0.0.1:${await freePort()}`;
    const outcome = await prometheusProvider.measure(
      metric({
        prometheus: { address: closed, query: "1", auth: { bearerToken: { secretKeyRef: { name: "prom", key: "token" } } } },
      }),
      withSecrets(),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_UNREACHABLE" });
    expect(leaks(outcome)).toEqual([]);
  });

  it.each([
    {
      name: "a missing Secret",
      readSecret,
      ref: { name: "nope", key: "token" },
      message: /key token of Secret shop\/nope.*not found/,
    },
    { name: "no cluster access", readSecret: undefined, ref: { name: "prom", key: "token" }, message: /no cluster access/ },
  ])("fails on $name", async ({ readSecret: reader, ref, message }) => {
    const outcome = await prometheusProvider.measure(
      metric({ prometheus: { address: `${base}/ok`, query: "1", auth: { bearerToken: { secretKeyRef: ref } } } }),
      context({ namespace: "shop", readSecret: reader }),
    );
    expect(outcome).toMatchObject({ ok: false, code: "SECRET_UNREADABLE" });
    expect(!outcome.ok && outcome.message).toMatch(message);
  });
});

describe("slo provider", () => {
  const istio = { source: "istio", service: FIXTURE.istioService, namespace };
  const nginx = { source: "nginx", service: FIXTURE.nginxService, namespace, ingress: FIXTURE.nginxIngress };
  const http = (hash: string) => ({ source: "http", service: FIXTURE.httpService, namespace, podTemplateHash: hash });
  it.each([
    {
      name: "istio within limits (the source proxy's failures ignored)",
      slo: { ...istio, errorRate: { max: 0.1 }, latency: { quantile: 0.99, max: "500ms" } },
      verdict: "Successful",
      errorRate: 0.05,
      latency: 0.375,
    },
    {
      name: "istio over its latency limit",
      slo: { ...istio, errorRate: { max: 0.1 }, latency: { quantile: 0.99, max: "300ms" } },
      verdict: "Failed",
      errorRate: 0.05,
      latency: 0.375,
      reason: /p99 latency 0.375s above 0.3s/,
    },
    { name: "istio over its error limit", slo: { ...istio, errorRate: { max: 0.01 } }, verdict: "Failed", errorRate: 0.05 },
    {
      name: "nginx, the canary Ingress within limits",
      slo: { ...nginx, errorRate: { max: 0.05 }, latency: { quantile: 0.99, max: "1s" } },
      verdict: "Successful",
      errorRate: 0.02,
      latency: 0.375,
    },
    {
      name: "nginx, every Ingress to the Service: over the error limit",
      slo: { ...nginx, ingress: undefined, errorRate: { max: 0.05 } },
      verdict: "Failed",
      errorRate: 0.51,
      reason: /error rate 0.51 above 0.05/,
    },
    {
      name: "http within limits",
      slo: { ...http(hashes.slow), errorRate: { max: 0.05 }, latency: { quantile: 0.99, max: "500ms" } },
      verdict: "Successful",
      errorRate: 0.04,
    },
    {
      name: "http over both limits",
      slo: { ...http(hashes.slow), errorRate: { max: 0.01 }, latency: { quantile: 0.99, max: "100ms" } },
      verdict: "Failed",
      errorRate: 0.04,
      reason: /error rate 0.04 above 0.01; p99 latency .* above 0.1s/,
    },
    {
      name: "http without any 5xx series: an error rate of 0",
      slo: { ...http(hashes.stable), errorRate: { max: 0 } },
      verdict: "Successful",
      errorRate: 0,
    },
    {
      name: "latency only: the value is the latency",
      slo: { ...istio, latency: { quantile: 0.5, max: "1s" }, window: "2m" },
      verdict: "Successful",
      latency: 0.05,
    },
  ])("$name", async ({ slo, verdict, errorRate, latency, reason }) => {
    const outcome = await sloProvider.measure(metric({ slo }), context());
    expect(outcome).toMatchObject({ ok: true, verdict });
    if (!outcome.ok) return;
    const value = outcome.value as number;
    expect(value).toBeCloseTo(errorRate ?? (latency as number), 6);
    if (errorRate !== undefined) expect(Number(outcome.metadata?.errorRate)).toBeCloseTo(errorRate, 6);
    if (latency !== undefined) expect(Number(outcome.metadata?.latencySeconds)).toBeCloseTo(latency, 3);
    expect(outcome.metadata?.requestsQuery).toMatch(/^sum\(increase\(/);
    if (reason) expect(outcome.metadata?.reason).toMatch(reason);
  });

  it.each([
    { name: "istio", slo: istio },
    { name: "nginx", slo: nginx },
    { name: "http", slo: http(hashes.sparse) },
  ])("is no data below minRequests ($name)", async ({ slo }) => {
    const outcome = await sloProvider.measure(
      metric({ slo: { ...slo, errorRate: { max: 0.01 }, minRequests: 100_000 } }),
      context(),
    );
    expect(outcome).toMatchObject({ ok: true, value: undefined });
    expect(outcome.ok && outcome.verdict).toBeUndefined();
    expect(outcome.ok && outcome.metadata?.reason).toMatch(/^\d+ requests in 1m, fewer than minRequests \(100000\)$/);
  });

  it("is no data for a service without traffic", async () => {
    const outcome = await sloProvider.measure(
      metric({ slo: { ...istio, service: "ghost", errorRate: { max: 0.01 }, minRequests: 0 } }),
      context(),
    );
    expect(outcome).toMatchObject({ ok: true, value: undefined, metadata: { requests: "0", reason: "no error rate over 1m" } });
  });

  it("fails on an unreachable Prometheus with the queries it meant to run", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const outcome = await sloProvider.measure(
      metric({ slo: { ...istio, prometheus: { address: closed }, errorRate: { max: 0.01 } } }),
      context(),
    );
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_UNREACHABLE", metadata: { address: closed } });
    expect(!outcome.ok && outcome.metadata?.errorRateQuery).toContain("istio_requests_total");
  });
});

describe("judge provider", () => {
  const latency = (canary: string, extra: Record<string, unknown> = {}) =>
    metric({ judge: { canary: p90(canary), baseline: p90(hashes.stable), window: "10m", step: "15s", ...extra } });
  const counts = (canary: string, extra: Record<string, unknown> = {}) =>
    metric({
      judge: {
        counts: {
          canaryErrors: requestCount(canary, true),
          canaryTotal: requestCount(canary, false),
          baselineErrors: requestCount(hashes.stable, true),
          baselineTotal: requestCount(hashes.stable, false),
        },
        window: "10m",
        ...extra,
      },
    });

  it("fails a canary 30% slower than the baseline", async () => {
    const outcome = await judgeProvider.measure(latency(hashes.slow), context());
    expect(outcome).toMatchObject({ ok: true, verdict: "Failed", metadata: { n_canary: "41", n_baseline: "41" } });
    if (!outcome.ok) return;
    expect(outcome.value).toBeGreaterThan(0.2);
    expect(outcome.value).toBeLessThan(0.4);
    expect(Number(outcome.metadata?.p)).toBeLessThan(1e-6);
    expect(outcome.metadata).toMatchObject({ test: "mann-whitney (normal approximation)", U: "1681" });
  });

  it("passes a canary drawn from the baseline's distribution", async () => {
    const outcome = await judgeProvider.measure(latency(hashes.same), context());
    expect(outcome).toMatchObject({ ok: true, verdict: "Successful" });
    expect(Math.abs((outcome.ok && (outcome.value as number)) || 0)).toBeLessThan(0.05);
  });

  it("passes a slower canary when only decreases are bad", async () => {
    const outcome = await judgeProvider.measure(latency(hashes.slow, { direction: "decrease" }), context());
    expect(outcome).toMatchObject({ ok: true, verdict: "Successful" });
  });

  it("passes a slower canary within a wide tolerance", async () => {
    const outcome = await judgeProvider.measure(latency(hashes.slow, { tolerance: "50%" }), context());
    expect(outcome).toMatchObject({ ok: true, verdict: "Successful", metadata: { tolerance: "0.5" } });
  });

  it("is no data with too few points", async () => {
    const outcome = await judgeProvider.measure(latency(hashes.slow, { window: "30s" }), context());
    expect(outcome).toMatchObject({ ok: true, value: undefined, metadata: { n_canary: "3", n_baseline: "3" } });
    expect(outcome.ok && outcome.verdict).toBeUndefined();
  });

  it("fails a canary with 5 errors in 1000 against a clean baseline of 10000 (the blind spot of rank tests)", async () => {
    const outcome = await judgeProvider.measure(counts(hashes.sparse), context());
    expect(outcome).toMatchObject({
      ok: true,
      verdict: "Failed",
      value: Number.POSITIVE_INFINITY,
      metadata: { test: "fisher", canaryErrors: "5", n_canary: "1000", baselineErrors: "0", n_baseline: "10000" },
    });
    expect(Number(outcome.ok && outcome.metadata?.p)).toBeLessThan(1e-5);
  });

  it("passes equal error counts", async () => {
    const outcome = await judgeProvider.measure(counts(hashes.stable), context());
    expect(outcome).toMatchObject({ ok: true, verdict: "Successful", value: 0, metadata: { p: "1" } });
  });

  it("is no data below minRequests", async () => {
    const outcome = await judgeProvider.measure(counts(hashes.sparse, { minRequests: 5000 }), context());
    expect(outcome).toMatchObject({
      ok: true,
      value: undefined,
      metadata: { reason: "1000 canary requests, fewer than minRequests (5000)" },
    });
  });

  it("fails on a bad query", async () => {
    const outcome = await judgeProvider.measure(latency("x", { canary: "rate(" }), context());
    expect(outcome).toMatchObject({ ok: false, code: "PROMETHEUS_BAD_QUERY", metadata: { canaryQuery: "rate(" } });
  });
});

describe("registry", () => {
  it.each([
    { provider: { prometheus: { query: "1" } }, name: "prometheus" },
    { provider: { slo: { source: "http", service: "s", namespace: "n", errorRate: { max: 0.1 } } }, name: "slo" },
    { provider: { judge: { canary: "a", baseline: "b", window: "1m" } }, name: "judge" },
  ])("serves $name", ({ provider, name }) => {
    expect(providerFor(metric(provider))?.name).toBe(name);
  });
});
