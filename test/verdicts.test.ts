// The acceptance table of Ramp's analysis: whole AnalysisTemplates measured once by `ramp analyze`
// against a real Prometheus holding a deterministic history (test/prometheus-fixture.ts), each with
// the overall verdict it must give. Limits whose edge a single measurement cannot show are driven
// through `advanceRun` over real measurements at successive times. The CLI process is checked for
// its exit codes. No cluster needed.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { advanceRun, dueMetrics, isTerminal } from "../src/analysis/evaluate.ts";
import { providerFor } from "../src/analysis/providers/registry.ts";
import { buildRunSpec } from "../src/analysis/run-spec.ts";
import type { ProviderOutcome } from "../src/analysis/types.ts";
import type { AnalysisPhase, AnalysisRunStatus } from "../src/api/analysis.ts";
import { API_VERSION } from "../src/api/kinds.ts";
import { analyze, templatesOf } from "../src/cli/analyze.ts";
import { freePort } from "../src/dev/processes.ts";
import { loopbackDoor } from "./helpers.ts";
import { FIXTURE, NOW, type PrometheusFixture, p90, requestCount, startPrometheusFixture } from "./prometheus-fixture.ts";

const run = promisify(execFile);
const main = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Stand-ins in the tables for addresses known only once the test runs. */
const CLOSED = "http://closed.invalid";
const HANG = "http://hang.invalid";

let fixture: PrometheusFixture;
let dir: string;
let hang: Server;
const addresses: Record<string, string> = {};

beforeAll(async () => {
  fixture = await startPrometheusFixture();
  dir = mkdtempSync(join(tmpdir(), "ramp-verdicts-"));
  // A server that accepts the query and never answers.
  hang = createServer(() => {});
  await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
  addresses[HANG] = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
  addresses[CLOSED] = `http://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  hang?.closeAllConnections();
  await new Promise((resolve) => hang?.close(resolve));
  await fixture?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Doc = Record<string, unknown>;
const template = (name: string, spec: Doc, kind = "AnalysisTemplate"): Doc => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name },
  spec,
});
/** One template with these metrics. */
const metrics = (...list: Doc[]) => [template("t", { metrics: list })];
/** A prometheus metric. */
const prom = (name: string, query: string, rest: Doc = {}, prometheus: Doc = {}): Doc => ({
  name,
  ...rest,
  provider: { prometheus: { query, ...prometheus } },
});

let files = 0;
/** The documents as one YAML file in the tmp dir, stand-in addresses replaced. */
function write(docs: Doc[]): string {
  let text = docs.map((d) => stringify(d)).join("---\n");
  for (const [stand, real] of Object.entries(addresses)) text = text.replaceAll(stand, real);
  const file = join(dir, `t${++files}.yaml`);
  writeFileSync(file, text);
  return file;
}

interface MetricReport {
  name: string;
  phase: AnalysisPhase;
  dryRun?: boolean;
  value?: string;
  message?: string;
  metadata?: Record<string, string>;
}
interface Report {
  at: string;
  verdict: AnalysisPhase;
  metrics: MetricReport[];
}

const { namespace, hashes } = FIXTURE;
const a = `${FIXTURE.value}{instance="a"}`; // 120 at NOW
const empty = `${FIXTURE.value}{instance="nope"}`;
const nan = `rate(${FIXTURE.idle}[1m]) / rate(${FIXTURE.idle}[1m])`;
const judgeLatency = (canary: string) => ({
  name: "latency",
  provider: { judge: { canary: p90(canary), baseline: p90(hashes.stable), window: "10m", step: "15s" } },
});
const judgeCounts = (canary: string) => ({
  name: "errors",
  provider: {
    judge: {
      counts: {
        canaryErrors: requestCount(canary, true),
        canaryTotal: requestCount(canary, false),
        baselineErrors: requestCount(hashes.stable, true),
        baselineTotal: requestCount(hashes.stable, false),
      },
      window: "10m",
    },
  },
});
const slo = (name: string, s: Doc) => ({ name, provider: { slo: { namespace, ...s } } });
const istio = { source: "istio", service: FIXTURE.istioService };
const nginx = { source: "nginx", service: FIXTURE.nginxService, ingress: FIXTURE.nginxIngress };
const http = (hash: string) => ({ source: "http", service: FIXTURE.httpService, podTemplateHash: hash });
/** A template whose `instance` argument picks the series, with a default. */
const byInstance = (name: string, instanceDefault?: string) =>
  template(name, {
    args: [{ name: "instance", ...(instanceDefault ? { value: instanceDefault } : {}) }],
    metrics: [prom(`${name}-value`, `${FIXTURE.value}{instance="{{args.instance}}"}`, { successCondition: "result >= 120" })],
  });
const text = (s: string) => expect.stringMatching(s);

interface Case {
  name: string;
  docs: Doc[];
  arg?: string[];
  verdict: AnalysisPhase;
  /** Each named metric's report, matched partially. */
  metrics?: Record<string, Partial<Record<keyof MetricReport, unknown>>>;
  /** The printed report: the run's message says why. */
  says?: RegExp;
}

describe("verdicts of whole templates, measured once", () => {
  it.each<Case>([
    {
      name: "one sample meets successCondition",
      docs: metrics(prom("value", a, { successCondition: "result == 120" })),
      verdict: "Successful",
      metrics: { value: { phase: "Successful", value: "120", metadata: { query: a, resultType: "vector", series: "1" } } },
    },
    {
      name: "failureLimit 0, one failure: past the edge",
      docs: metrics(prom("value", a, { successCondition: "result < 100" })),
      verdict: "Failed",
      metrics: { value: { phase: "Failed", value: "120" } },
      says: /metric "value" Failed: 1 failed > failureLimit 0/,
    },
    {
      name: "failureLimit 1, one failure: at the edge, tolerated",
      docs: metrics(prom("value", a, { successCondition: "result < 100", failureLimit: 1 })),
      verdict: "Successful",
      metrics: { value: { phase: "Successful" } },
    },
    {
      name: "failureCondition true wins over successCondition",
      docs: metrics(prom("value", a, { successCondition: "result > 0", failureCondition: "result >= 120" })),
      verdict: "Failed",
    },
    {
      name: "inconclusiveLimit 0, between the conditions: past the edge",
      docs: metrics(prom("value", a, { successCondition: "result[0] < 100", failureCondition: "result[0] > 200" })),
      verdict: "Inconclusive",
      says: /1 inconclusive > inconclusiveLimit 0/,
    },
    {
      name: "inconclusiveLimit 1, between the conditions: at the edge, tolerated",
      docs: metrics(
        prom("value", a, { successCondition: "result[0] < 100", failureCondition: "result[0] > 200", inconclusiveLimit: 1 }),
      ),
      verdict: "Successful",
    },
    {
      name: "an error ends a single measurement, whatever consecutiveErrorLimit says",
      docs: metrics(prom("value", a, { successCondition: "result.nope()", consecutiveErrorLimit: 5 })),
      verdict: "Error",
      metrics: { value: { phase: "Error", message: text("^BAD_CONDITION: successCondition: ") } },
    },
    {
      name: "empty result, noData inconclusive (the default)",
      docs: metrics(prom("empty", empty, { successCondition: "result < 1" })),
      verdict: "Inconclusive",
      metrics: { empty: { phase: "Inconclusive", message: "no data (noData: inconclusive)", metadata: { series: "0" } } },
    },
    {
      name: "empty result, noData fail",
      docs: metrics(prom("empty", empty, { successCondition: "result < 1", noData: "fail" })),
      verdict: "Failed",
      metrics: { empty: { phase: "Failed", message: "no data (noData: fail)" } },
    },
    {
      name: "empty result, noData pass",
      docs: metrics(prom("empty", empty, { successCondition: "result < 1", noData: "pass" })),
      verdict: "Successful",
      metrics: { empty: { phase: "Successful", message: "no data (noData: pass)" } },
    },
    {
      name: "NaN (0/0) is no data, never reaching the condition",
      docs: metrics(prom("nan", nan, { successCondition: "isNaN(result)" })),
      verdict: "Inconclusive",
      metrics: { nan: { value: "NaN", message: "no data (noData: inconclusive)" } },
    },
    {
      name: "NaN under noData fail",
      docs: metrics(prom("nan", nan, { successCondition: "true", noData: "fail" })),
      verdict: "Failed",
    },
    {
      name: "several series, every one within: result.all",
      docs: metrics(prom("all", FIXTURE.value, { successCondition: "result.all(x, x >= 120)" })),
      verdict: "Successful",
      metrics: { all: { value: "[120, 1120]", metadata: { series: "2" } } },
    },
    {
      name: "several series, one outside: result.all fails",
      docs: metrics(prom("all", FIXTURE.value, { successCondition: "result.all(x, x < 1000)" })),
      verdict: "Failed",
    },
    {
      name: "several series, one bad: result.exists in failureCondition",
      docs: metrics(prom("any", FIXTURE.value, { failureCondition: "result.exists(x, x > 1000)" })),
      verdict: "Failed",
    },
    {
      name: "several series under a scalar condition: an Error that suggests the list forms",
      docs: metrics(prom("scalar", FIXTURE.value, { successCondition: "result > 0" })),
      verdict: "Error",
      metrics: { scalar: { message: text("^CONDITION_ERROR: successCondition: .*result\\.all") } },
    },
    {
      name: "a range query: every point of the window",
      docs: metrics(
        prom(
          "range",
          a,
          { successCondition: "size(result) == 5 && result.all(x, x >= 116)" },
          { range: { window: "1m", step: "15s" } },
        ),
      ),
      verdict: "Successful",
      metrics: { range: { value: "[116, 117, 118, 119, 120]" } },
    },
    {
      name: "a bad query",
      docs: metrics(prom("bad", "rate(", { successCondition: "result > 0" })),
      verdict: "Error",
      metrics: { bad: { phase: "Error", message: text("^PROMETHEUS_BAD_QUERY: .*parse error") } },
      says: /metric "bad" Error: .*PROMETHEUS_BAD_QUERY/,
    },
    {
      name: "a refused connection (closed port)",
      docs: metrics(prom("down", a, { successCondition: "result > 0" }, { address: CLOSED })),
      verdict: "Error",
      metrics: { down: { phase: "Error", message: text("^PROMETHEUS_UNREACHABLE: ") } },
    },
    {
      name: "a Prometheus that never answers, timeout 1s",
      docs: metrics(prom("hang", a, { successCondition: "result > 0" }, { address: HANG, timeout: "1s" })),
      verdict: "Error",
      metrics: { hang: { phase: "Error", message: text("^PROMETHEUS_TIMEOUT: .*within 1s") } },
    },
    {
      name: "the worst verdict wins: Failed over Error",
      docs: metrics(prom("fails", a, { successCondition: "result < 100" }), prom("bad", "rate(", { successCondition: "true" })),
      verdict: "Failed",
      metrics: { fails: { phase: "Failed" }, bad: { phase: "Error" } },
    },
    {
      name: "the worst verdict wins: Error over Inconclusive",
      docs: metrics(prom("empty", empty, { successCondition: "true" }), prom("bad", "rate(", { successCondition: "true" })),
      verdict: "Error",
    },
    {
      name: "a failing dryRun metric does not fail the run",
      docs: [
        template("t", {
          metrics: [prom("ok", a, { successCondition: "result == 120" }), prom("trial", a, { successCondition: "result < 100" })],
          dryRun: [{ metricName: "trial" }],
        }),
      ],
      verdict: "Successful",
      metrics: { ok: { phase: "Successful" }, trial: { phase: "Failed", dryRun: true } },
      says: /dry-run metric "trial" Failed/,
    },
    {
      name: "an erroring dryRun metric does not fail the run",
      docs: [
        template("t", {
          metrics: [prom("ok", a, { successCondition: "result == 120" }), prom("trial", "rate(", { successCondition: "true" })],
          dryRun: [{ metricName: "*" }],
        }),
      ],
      verdict: "Successful",
      metrics: { ok: { dryRun: true }, trial: { phase: "Error", dryRun: true } },
    },
    {
      name: "two templates composed, the argument's default shared",
      docs: [byInstance("first", "a"), byInstance("second")],
      verdict: "Successful",
      metrics: { "first-value": { value: "120" }, "second-value": { value: "120" } },
    },
    {
      name: "two templates composed, --arg overriding the default for both",
      docs: [byInstance("first", "a"), byInstance("second")],
      arg: ["instance=b"],
      verdict: "Successful",
      metrics: { "first-value": { value: "1120" }, "second-value": { value: "1120" } },
    },
    {
      name: "an AnalysisTemplate and a ClusterAnalysisTemplate composed, one failing",
      docs: [
        byInstance("first", "a"),
        template("cluster", { metrics: [prom("strict", a, { successCondition: "result < 100" })] }, "ClusterAnalysisTemplate"),
      ],
      verdict: "Failed",
      metrics: { "first-value": { phase: "Successful" }, strict: { phase: "Failed" } },
    },
    {
      name: "{{args.x}} substituted from --arg, in a label and as a number",
      docs: [
        template("t", {
          args: [{ name: "instance" }, { name: "min" }],
          metrics: [
            prom("value", `${FIXTURE.value}{instance="{{args.instance}}"} > {{args.min}}`, { successCondition: "result > 0" }),
          ],
        }),
      ],
      arg: ["instance=b", "min=1e3"],
      verdict: "Successful",
      metrics: { value: { value: "1120", metadata: { query: `${FIXTURE.value}{instance="b"} > 1e3` } } },
    },
    {
      name: "a hostile argument outside a string literal is refused, never run",
      docs: [
        template("t", {
          args: [{ name: "min" }],
          metrics: [prom("value", `${a} > {{args.min}}`, { successCondition: "result > 0" })],
        }),
      ],
      arg: ["min=0 or vector(1)"],
      verdict: "Error",
      metrics: {
        value: {
          phase: "Error",
          message: text('^BAD_ARGUMENT: query: argument "min" is placed outside a string literal, so it must be a plain number'),
          metadata: expect.not.objectContaining({ query: expect.anything() }),
        },
      },
    },
    {
      name: "a hostile argument inside a string literal stays a label value",
      docs: [byInstance("t")],
      arg: ['instance=a"} or vector(1) or x{y="'],
      verdict: "Inconclusive",
      metrics: {
        "t-value": {
          message: "no data (noData: inconclusive)",
          metadata: expect.objectContaining({ query: `${FIXTURE.value}{instance="a\\"} or vector(1) or x{y=\\""}`, series: "0" }),
        },
      },
    },
    {
      name: "an argument no template declares is an Error naming it",
      docs: metrics(prom("value", `${FIXTURE.value}{instance="{{args.nope}}"}`, { successCondition: "true" })),
      verdict: "Error",
      metrics: { value: { message: 'BAD_ARGUMENT: query: unknown argument "nope" in {{args.nope}}' } },
    },
    {
      name: "judge: a canary 30% slower than the baseline",
      docs: metrics(judgeLatency(hashes.slow)),
      verdict: "Failed",
      metrics: {
        latency: {
          phase: "Failed",
          value: text("^0\\.[23]"),
          metadata: expect.objectContaining({ n_canary: "41", n_baseline: "41" }),
        },
      },
    },
    {
      name: "judge: a canary drawn from the baseline's distribution",
      docs: metrics(judgeLatency(hashes.same)),
      verdict: "Successful",
    },
    {
      name: "judge: sparse canary errors against a clean baseline (counts)",
      docs: metrics(judgeCounts(hashes.sparse)),
      verdict: "Failed",
      metrics: {
        errors: {
          value: "Infinity",
          metadata: expect.objectContaining({ test: "fisher", canaryErrors: "5", n_canary: "1000", baselineErrors: "0" }),
        },
      },
    },
    {
      name: "judge: equal error counts (none on either side)",
      docs: metrics(judgeCounts(hashes.same)),
      verdict: "Successful",
    },
    {
      name: "slo istio: 5% errors over a 1% limit",
      docs: metrics(slo("errors", { ...istio, errorRate: { max: 0.01 } })),
      verdict: "Failed",
      metrics: { errors: { value: "0.05", metadata: expect.objectContaining({ reason: "error rate 0.05 above 0.01" }) } },
    },
    {
      name: "slo istio: error rate and p99 latency within limits",
      docs: metrics(slo("slo", { ...istio, errorRate: { max: 0.1 }, latency: { quantile: 0.99, max: "500ms" } })),
      verdict: "Successful",
    },
    {
      name: "slo istio: p99 latency 375ms over 300ms",
      docs: metrics(slo("latency", { ...istio, latency: { quantile: 0.99, max: "300ms" } })),
      verdict: "Failed",
      metrics: { latency: { metadata: expect.objectContaining({ reason: "p99 latency 0.375s above 0.3s" }) } },
    },
    {
      name: "slo nginx: error rate and p99 latency within limits",
      docs: metrics(slo("slo", { ...nginx, errorRate: { max: 0.05 }, latency: { quantile: 0.99, max: "1s" } })),
      verdict: "Successful",
      metrics: { slo: { value: "0.02" } },
    },
    {
      name: "slo nginx: p99 latency 375ms over 250ms",
      docs: metrics(slo("latency", { ...nginx, latency: { quantile: 0.99, max: "250ms" } })),
      verdict: "Failed",
    },
    {
      name: "slo http: 4% errors over a 1% limit",
      docs: metrics(slo("errors", { ...http(hashes.slow), errorRate: { max: 0.01 } })),
      verdict: "Failed",
    },
    {
      name: "slo below minRequests is no data, under the metric's noData",
      docs: metrics(slo("few", { ...http(hashes.sparse), errorRate: { max: 0.01 }, minRequests: 100_000 })),
      verdict: "Inconclusive",
      metrics: { few: { message: "no data (noData: inconclusive)" } },
    },
  ])("$name: $verdict", async ({ docs, arg, verdict, metrics: expected, says }) => {
    const {
      phase,
      report,
      text: printed,
    } = await analyze({
      file: write(docs),
      arg: arg ?? [],
      prometheus: fixture.url,
      at: NOW.toISOString(),
    });
    const r = report as Report;
    expect({ phase, verdict: r.verdict }).toEqual({ phase: verdict, verdict });
    expect(r.at).toBe(NOW.toISOString());
    for (const [name, want] of Object.entries(expected ?? {})) {
      const got = r.metrics.find((m) => m.name === name);
      expect(got, `metric ${name} in ${printed}`).toMatchObject(want);
    }
    expect(printed).toContain(`verdict: ${verdict}`);
    if (says) expect(printed).toMatch(says);
  });

  it.each([
    {
      name: "two templates with different defaults for one argument",
      docs: [byInstance("first", "a"), byInstance("second", "b")],
      arg: [],
      message: /argument "instance" defaults to "b" but another template says "a"; pass it explicitly/,
    },
    {
      name: "a required argument not passed",
      docs: [byInstance("first")],
      arg: [],
      message: /AnalysisTemplate "first": argument "instance" is required/,
    },
    {
      name: "an --arg without =",
      docs: [byInstance("first", "a")],
      arg: ["instance"],
      message: /--arg instance: expected NAME=VALUE/,
    },
    {
      name: "the same metric in two templates",
      docs: [byInstance("first", "a"), template("second", { metrics: [prom("first-value", a, { successCondition: "true" })] })],
      arg: [],
      message: /metric "first-value" is defined by both AnalysisTemplate "first" and AnalysisTemplate "second"/,
    },
  ])("refuses $name, measuring nothing", async ({ docs, arg, message }) => {
    await expect(analyze({ file: write(docs), arg, prometheus: fixture.url, at: NOW.toISOString() })).rejects.toThrow(message);
  });
});

/** A metric measured every 15s from NOW-60s, five times at most: the data changes each step. */
const steps = [60, 45, 30, 15, 0].map((s) => new Date(NOW.getTime() - s * 1000));

describe("limits over several measurements (advanceRun on real outcomes, NOW-60s … NOW)", () => {
  // ramp_fixture_value{instance="a"} is 116, 117, 118, 119, 120 at these times; instance "b" is 1000 more.
  const failing = (failureLimit: number) =>
    prom("m", a, { interval: "15s", count: 5, successCondition: "result <= 117", failureLimit });
  // Empty while a <= 117, then a value.
  const appearing = (inconclusiveLimit: number) =>
    prom("m", `${a} > 117`, { interval: "15s", count: 5, successCondition: "result > 0", inconclusiveLimit });
  // While both series are below 1118 they collide after label_replace: Prometheus refuses to evaluate.
  const colliding = (consecutiveErrorLimit: number) =>
    prom("m", `label_replace(${FIXTURE.value} < 1118, "instance", "x", "", "")`, {
      interval: "15s",
      count: 3,
      successCondition: "result > 0",
      consecutiveErrorLimit,
    });
  const S = "Successful";
  const F = "Failed";
  const I = "Inconclusive";
  const E = "Error";
  const R = "Running";

  it.each([
    { name: "failureLimit 3, 3 failures: at the edge", metric: failing(3), measured: [S, S, F, F, F], phases: [R, R, R, R, S] },
    { name: "failureLimit 2, 3 failures: past the edge", metric: failing(2), measured: [S, S, F, F, F], phases: [R, R, R, R, F] },
    {
      name: "inconclusiveLimit 2, 2 inconclusive: at the edge",
      metric: appearing(2),
      measured: [I, I, S, S, S],
      phases: [R, R, R, R, S],
    },
    { name: "inconclusiveLimit 1, 2 inconclusive: past the edge", metric: appearing(1), measured: [I, I], phases: [R, I] },
    {
      name: "consecutiveErrorLimit 2, 2 errors in a row: at the edge, then the count is reached",
      metric: colliding(2),
      measured: [E, E, S, S, S],
      phases: [R, R, R, R, S],
    },
    { name: "consecutiveErrorLimit 1, 2 errors in a row: past the edge", metric: colliding(1), measured: [E, E], phases: [R, E] },
  ])("$name", async ({ metric, measured, phases }) => {
    const spec = buildRunSpec(templatesOf(stringify(template("t", { metrics: [metric] })), "limits.yaml"), []);
    let status: AnalysisRunStatus | undefined;
    const seen: { measured: string[]; phases: string[] } = { measured: [], phases: [] };
    for (const at of steps) {
      if (isTerminal(status?.phase)) break;
      const outcomes: Record<string, ProviderOutcome> = {};
      for (const m of dueMetrics(spec, status, at)) {
        outcomes[m.name] = await providerFor(m)!.measure(m, {
          args: {},
          now: at,
          defaultPrometheusUrl: fixture.url,
          outbound: loopbackDoor,
        });
      }
      status = advanceRun(spec, status, at, outcomes).status;
      const result = status.metricResults?.[0];
      seen.measured.push(result?.measurements?.at(-1)?.phase ?? "none");
      seen.phases.push(status.phase ?? "none");
    }
    expect(seen).toEqual({ measured, phases });
    if (phases.at(-1) === E) {
      expect(status?.message).toMatch(/2 errors in a row > consecutiveErrorLimit 1; last: PROMETHEUS_BAD_QUERY: .*same labelset/);
    }
  });
});

// Each process loads the whole CLI (seconds of CPU on a busy machine): generous timeouts, one test at a time.
describe("ramp analyze, the process", { timeout: 180_000 }, () => {
  /** Runs the CLI; a non-zero exit is an answer here, not a failure. */
  async function cli(file: string, ...extra: string[]) {
    const args = [main, "analyze", "-f", file, "--prometheus", fixture.url, "--at", NOW.toISOString(), ...extra];
    try {
      const { stdout, stderr } = await run(process.execPath, args);
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: unknown; stdout: string; stderr: string };
      if (typeof e.code !== "number") throw err;
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it.each([
    { verdict: "Successful", code: 0, docs: metrics(prom("m", a, { successCondition: "result == 120" })) },
    { verdict: "Failed", code: 1, docs: metrics(prom("m", a, { successCondition: "result < 100" })) },
    { verdict: "Inconclusive", code: 2, docs: metrics(prom("m", empty, { successCondition: "true" })) },
    { verdict: "Error", code: 3, docs: metrics(prom("m", "rate(", { successCondition: "true" })) },
  ])("exits $code on $verdict", async ({ verdict, code, docs }) => {
    const file = write(docs);
    const [out, json] = await Promise.all([cli(file), cli(file, "-o", "json")]);
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code, stderr: "" });
    expect(out.stdout).toContain(`verdict: ${verdict}`);
    expect(json.code).toBe(code);
    expect(JSON.parse(json.stdout)).toMatchObject({ at: NOW.toISOString(), verdict, metrics: [{ name: "m", phase: verdict }] });
  });

  it("exits 3 on a schema error, naming the field", async () => {
    const file = write(metrics(prom("m", a, { successCondition: "true", noData: "maybe" })));
    const out = await cli(file);
    expect(out.code).toBe(3);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(new RegExp(`^ramp analyze: ${file}: AnalysisTemplate/t: spec\\.metrics\\[0\\]\\.noData: `));
  });

  it("exits 3 on a file that does not exist", async () => {
    const out = await cli(join(dir, "missing.yaml"));
    expect(out.code).toBe(3);
    expect(out.stderr).toMatch(/^ramp analyze: .*missing\.yaml/);
  });
});
