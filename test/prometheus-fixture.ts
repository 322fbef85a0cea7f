// A real Prometheus holding a fixed, deterministic history for the provider tests: the series are
// written as OpenMetrics, backfilled with `promtool tsdb create-blocks-from openmetrics`, and served
// by a Prometheus on 127.0.0.1 that scrapes nothing. Queries run at NOW, inside that history.
//
// The history sits at a fixed time long past: every figure is the same run after run, and it stays
// clear of the last 3 hours, which Prometheus's storage docs say not to backfill (the head block may
// still cover them). Retention is 100y, so Prometheus never deletes it.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { freePort, startProcess, stopProcess, waitFor } from "../src/dev/processes.ts";
import { ensurePrometheus } from "../src/dev/up.ts";

const START_S = Date.UTC(2025, 0, 1) / 1000;
const STEP_S = 15;
const STEPS = 161; // 40 minutes
const NOW_STEP = 120;
/** The measurement time of every test: 30 minutes into the history. */
export const NOW = new Date((START_S + NOW_STEP * STEP_S) * 1000);

/** What the fixture holds, for the tests to name. */
export const FIXTURE = {
  namespace: "shop",
  /** ramp_fixture_value{instance="a"} is the step number (120 at NOW), instance "b" is 1000 more. */
  value: "ramp_fixture_value",
  /** A counter that never moves: its rate is 0, and 0/0 is NaN. */
  idle: "ramp_fixture_idle_total",
  /** istio: 200 requests a step, 5% 503s, p99 375 ms; the source proxy's reports are all 500s. */
  istioService: "reviews",
  /** nginx: the canary Ingress gets 100 requests a step, 2% 500s, p99 375 ms; another Ingress to
   * the same Service fails every request. */
  nginxService: "web-canary",
  nginxIngress: "web-canary",
  /** http: Service checkout, one ReplicaSet per scenario (pod_template_hash). */
  httpService: "checkout",
  hashes: {
    /** 250 requests a step, no 5xx series at all, latency ~ N(100 ms, 20 ms). */
    stable: "stable",
    /** As stable, drawn independently. */
    same: "same",
    /** Latency 30% higher than stable, 4% 500s. */
    slow: "slow",
    /** 25 requests a step, 5 of them 500s in the 10 minutes before NOW. */
    sparse: "sparse",
  },
};

/** Queries over the fixture's http series of one ReplicaSet (by hash), as the judge cases use them. */
const hashSelector = (hash: string) =>
  `{namespace="${FIXTURE.namespace}",service="${FIXTURE.httpService}",pod_template_hash="${hash}"}`;
export const p90 = (hash: string) =>
  `histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket${hashSelector(hash)}[1m])))`;
export const requestCount = (hash: string, errors: boolean) =>
  `sum(increase(http_requests_total{namespace="${FIXTURE.namespace}",pod_template_hash="${hash}"${errors ? ',code=~"5.."' : ""}}[10m]))`;

type Labels = Record<string, string>;
export interface Series {
  name: string;
  labels: Labels;
  values: number[];
  /** Each value's time in seconds; the fixture's steps when absent. */
  times?: number[];
}
export interface Family {
  name: string;
  type: "gauge" | "counter" | "histogram";
  series: Series[];
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(mean: number, sd: number, seed: number): () => number {
  const next = random(seed);
  return () => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

const steps = <T>(f: (step: number) => T): T[] => Array.from({ length: STEPS }, (_, i) => f(i));
function cumulative(increments: number[]): number[] {
  const totals: number[] = [];
  let sum = 0;
  for (const v of increments) {
    sum += v;
    totals.push(sum);
  }
  return totals;
}

const counter = (name: string, labels: Labels, perStep: (step: number) => number): Series => ({
  name,
  labels,
  values: cumulative(steps(perStep)),
});

/** A histogram's series from the observations of each step. */
function histogram(name: string, labels: Labels, bounds: number[], observe: (step: number) => number[]): Series[] {
  const observations = steps(observe);
  const les = [...bounds.map(String), "+Inf"];
  return [
    ...les.map((le, b) => ({
      name: `${name}_bucket`,
      labels: { ...labels, le },
      values: cumulative(observations.map((obs) => obs.filter((v) => b === bounds.length || v <= (bounds[b] as number)).length)),
    })),
    { name: `${name}_count`, labels, values: cumulative(observations.map((obs) => obs.length)) },
    { name: `${name}_sum`, labels, values: cumulative(observations.map((obs) => obs.reduce((a, v) => a + v, 0))) },
  ];
}

/** `count` copies of each value: a step with exact bucket counts. */
const repeated = (counts: [value: number, count: number][]) =>
  counts.flatMap(([value, count]) => Array<number>(count).fill(value));

function istio(): Family[] {
  const destination = {
    reporter: "destination",
    destination_service_name: FIXTURE.istioService,
    destination_service_namespace: FIXTURE.namespace,
    destination_workload: `${FIXTURE.istioService}-v2`,
    destination_workload_namespace: FIXTURE.namespace,
  };
  const source = { ...destination, reporter: "source" };
  const ms = [50, 100, 250, 500, 1000];
  return [
    {
      name: "istio_requests",
      type: "counter",
      series: [
        counter("istio_requests_total", { ...destination, response_code: "200" }, () => 190),
        counter("istio_requests_total", { ...destination, response_code: "503" }, () => 10),
        counter("istio_requests_total", { ...source, response_code: "500" }, () => 200),
      ],
    },
    {
      name: "istio_request_duration_milliseconds",
      type: "histogram",
      series: [
        // Buckets 100, 180, 196, 200 of 200: p50 50 ms, p90 100 ms, p99 375 ms.
        ...histogram("istio_request_duration_milliseconds", destination, ms, () =>
          repeated([
            [30, 100],
            [75, 80],
            [200, 16],
            [400, 4],
          ]),
        ),
        ...histogram("istio_request_duration_milliseconds", source, ms, () => repeated([[900, 200]])),
      ],
    },
  ];
}

function nginx(): Family[] {
  const canary = { namespace: FIXTURE.namespace, ingress: FIXTURE.nginxIngress, service: FIXTURE.nginxService };
  const legacy = { ...canary, ingress: "web-legacy" };
  return [
    {
      name: "nginx_ingress_controller_requests",
      type: "counter",
      series: [
        counter("nginx_ingress_controller_requests", { ...canary, status: "200" }, () => 98),
        counter("nginx_ingress_controller_requests", { ...canary, status: "500" }, () => 2),
        counter("nginx_ingress_controller_requests", { ...legacy, status: "500" }, () => 100),
      ],
    },
    {
      name: "nginx_ingress_controller_request_duration_seconds",
      type: "histogram",
      // Buckets 50, 90, 98, 100 of 100: p99 375 ms.
      series: histogram("nginx_ingress_controller_request_duration_seconds", canary, [0.05, 0.1, 0.25, 0.5, 1], () =>
        repeated([
          [0.03, 50],
          [0.075, 40],
          [0.2, 8],
          [0.4, 2],
        ]),
      ),
    },
  ];
}

function http(): Family[] {
  const { stable, same, slow, sparse } = FIXTURE.hashes;
  const labels = (hash: string) => ({ namespace: FIXTURE.namespace, service: FIXTURE.httpService, pod_template_hash: hash });
  const sparseErrorSteps = [84, 92, 101, 109, 117];
  // Fine buckets, so that quantiles interpolated within them follow the latency closely.
  const bounds = [0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 1];
  const drawn = (hash: string, perStep: number, mean: number, seed: number) => {
    const latency = normal(mean, mean / 5, seed);
    return histogram("http_request_duration_seconds", labels(hash), bounds, () =>
      Array.from({ length: perStep }, () => Math.max(0.001, latency())),
    );
  };
  return [
    {
      name: "http_requests",
      type: "counter",
      series: [
        counter("http_requests_total", { ...labels(stable), code: "200" }, () => 250),
        counter("http_requests_total", { ...labels(same), code: "200" }, () => 250),
        counter("http_requests_total", { ...labels(slow), code: "200" }, () => 240),
        counter("http_requests_total", { ...labels(slow), code: "500" }, () => 10),
        counter("http_requests_total", { ...labels(sparse), code: "200" }, (i) => (sparseErrorSteps.includes(i) ? 24 : 25)),
        counter("http_requests_total", { ...labels(sparse), code: "500" }, (i) => (sparseErrorSteps.includes(i) ? 1 : 0)),
      ],
    },
    {
      name: "http_request_duration_seconds",
      type: "histogram",
      series: [drawn(stable, 250, 0.1, 1), drawn(same, 250, 0.1, 2), drawn(slow, 250, 0.13, 3), drawn(sparse, 25, 0.1, 4)].flat(),
    },
  ];
}

function families(): Family[] {
  return [
    {
      name: FIXTURE.value,
      type: "gauge",
      series: ["a", "b"].map((instance, n) => ({
        name: FIXTURE.value,
        labels: { instance },
        values: steps((i) => n * 1000 + i),
      })),
    },
    { name: "ramp_fixture_idle", type: "counter", series: [counter(FIXTURE.idle, {}, (i) => (i === 0 ? 7 : 0))] },
    ...istio(),
    ...nginx(),
    ...http(),
  ];
}

const labelText = (labels: Labels) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",")}}`;

/** Families as OpenMetrics text: each family together, each series in time order. */
export function openMetrics(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const s of family.series) {
      const times = s.times ?? s.values.map((_, i) => START_S + i * STEP_S);
      lines.push(...s.values.map((v, i) => `${s.name}${labelText(s.labels)} ${v} ${times[i]}`));
    }
  }
  return `${lines.join("\n")}\n# EOF\n`;
}

/** The whole history as OpenMetrics text. */
export const fixtureOpenMetrics = (): string => openMetrics(families());

export interface PrometheusFixture {
  url: string;
  stop(): Promise<void>;
}

/** Backfills the history (OpenMetrics text, kept clear of the last 3 hours; default this file's)
 * into a fresh folder and serves it; `stop` ends exactly that Prometheus. */
export async function startPrometheusFixture(history = fixtureOpenMetrics()): Promise<PrometheusFixture> {
  const prometheus = await ensurePrometheus(() => {});
  const dir = mkdtempSync(join(tmpdir(), "ramp-prometheus-fixture-"));
  const data = join(dir, "data");
  writeFileSync(join(dir, "history.om"), history);
  await promisify(execFile)(
    join(dirname(prometheus), "promtool"),
    ["tsdb", "create-blocks-from", "openmetrics", join(dir, "history.om"), data],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1m\n");
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess(
    "prometheus",
    prometheus,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${data}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=100y",
    ],
    dir,
  );
  const stop = async () => {
    await stopProcess(proc.pid);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("the fixture Prometheus", async () => (await fetch(`${url}/-/ready`)).ok, 30_000, `log in ${proc.log}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}
