import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { exitCodeOf, expandInputs, formatFinding, lintText } from "./lint.ts";

const run = promisify(execFile);
const main = new URL("./main.ts", import.meta.url).pathname;

const TEMPLATE = `  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - {name: web, image: nginx:1.27}`;
const STEPS = `      steps:
      - setWeight: 20
      - pause: {duration: 10s}`;

/** A small valid Rollout with parts replaced; cases mark the line they expect with `#!`. */
function rollout(parts: { spec?: string; template?: string; strategy?: string; header?: string } = {}): string {
  return `${parts.header ?? "apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata:\n  name: web"}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
${parts.spec ?? ""}${parts.template ?? TEMPLATE}
  strategy:
${parts.strategy ?? `    canary:\n${STEPS}`}
`;
}

function template(metrics: string, header = "kind: AnalysisTemplate\nmetadata:\n  name: t"): string {
  return `apiVersion: ramp.dev/v1alpha1
${header}
spec:
  args: [{name: service}]
  metrics:
${metrics}
`;
}

const promMetric = `  - name: errors
    successCondition: result < 0.01
    provider:
      prometheus: {query: "sum(rate(x[1m]))"}`;

interface Case {
  name: string;
  yaml: string;
  field: string;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: "a baseline behind a traffic router",
    yaml: rollout({
      strategy:
        "    canary:\n      baseline: {enabled: true} #!\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {httpRoute: web}",
    }),
    field: "spec.strategy.canary.baseline",
    message: /baseline needs replica-count routing/,
  },
  {
    name: "a Baseline hash argument without a baseline",
    yaml: rollout({
      strategy:
        "    canary: #!\n      steps:\n      - analysis:\n          templates: [{templateName: judge}]\n          args: [{name: b, valueFrom: {podTemplateHashValue: Baseline}}]",
    }),
    field: "spec.strategy.canary.baseline",
    message: /podTemplateHashValue Baseline needs strategy.canary.baseline.enabled/,
  },
  {
    name: "rollbackWindow beyond its bound",
    yaml: rollout({ spec: "  rollbackWindow: {revisions: 101} #!\n" }),
    field: "spec.rollbackWindow.revisions",
    message: /<=100/,
  },
  {
    name: "replicas not a number",
    yaml: rollout().replace("  replicas: 3", "  replicas: three #!"),
    field: "spec.replicas",
    message: /expected number/,
  },
  {
    name: "negative replicas",
    yaml: rollout({ spec: "  minReadySeconds: -1 #!\n" }),
    field: "spec.minReadySeconds",
    message: />=0/,
  },
  {
    name: "weight 120",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - setWeight: 120 #!" }),
    field: "spec.strategy.canary.steps[0].setWeight",
    message: /<=100/,
  },
  {
    name: "negative weight",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - setWeight: -5 #!" }),
    field: "spec.strategy.canary.steps[0].setWeight",
    message: />=0/,
  },
  {
    name: "unknown step kind",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - setWieght: 20 #!" }),
    field: "spec.strategy.canary.steps[0].setWieght",
    message: /unknown field "setWieght"/,
  },
  {
    name: "two actions in one step",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - setWeight: 10 #!\n        pause: {}" }),
    field: "spec.strategy.canary.steps[0]",
    message: /exactly one action/,
  },
  {
    name: "empty step",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - {} #!" }),
    field: "spec.strategy.canary.steps[0]",
    message: /exactly one action/,
  },
  {
    name: "both strategies",
    yaml: rollout({ strategy: `    canary: {}\n    blueGreen: {activeService: web}` }).replace("  strategy:", "  strategy: #!"),
    field: "spec.strategy",
    message: /exactly one of canary or blueGreen/,
  },
  {
    name: "no strategy",
    yaml: rollout({ strategy: "" }).replace("  strategy:", "  strategy: {} #!"),
    field: "spec.strategy",
    message: /exactly one of canary or blueGreen/,
  },
  {
    name: "duration in words",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - pause: {duration: 10 minutes} #!" }),
    field: "spec.strategy.canary.steps[0].pause.duration",
    message: /must be a duration like 30s/,
  },
  {
    name: "negative duration",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - pause: {duration: -3} #!" }),
    field: "spec.strategy.canary.steps[0].pause.duration",
    message: /must be a duration/,
  },
  {
    name: "template and workloadRef",
    yaml: rollout({ spec: "  workloadRef: {name: web}\n" }).replace("spec:", "spec: #!"),
    field: "spec",
    message: /exactly one of template or workloadRef/,
  },
  {
    name: "neither template nor workloadRef",
    yaml: rollout({ template: "" }).replace("spec:", "spec: #!"),
    field: "spec",
    message: /exactly one of template or workloadRef/,
  },
  {
    name: "selector does not match the template",
    yaml: rollout()
      .replace("    matchLabels: {app: web}", "    matchLabels: {app: other}")
      .replace("  selector:", "  selector: #!"),
    field: "spec.selector",
    message: /selector.matchLabels must match template.metadata.labels/,
  },
  {
    name: "selector missing",
    yaml: rollout().replace("  selector:\n    matchLabels: {app: web}\n", "").replace("spec:", "spec: #!"),
    field: "spec.selector",
    message: /required field is missing/,
  },
  {
    name: "active and preview service are the same",
    yaml: rollout({ strategy: "    blueGreen:\n      activeService: web\n      previewService: web #!" }),
    field: "spec.strategy.blueGreen.previewService",
    message: /activeService and previewService must differ/,
  },
  {
    name: "blue-green without activeService",
    yaml: rollout({ strategy: "    blueGreen: #!\n      previewService: web-preview" }),
    field: "spec.strategy.blueGreen.activeService",
    message: /required field is missing/,
  },
  {
    name: "stable and canary service are the same",
    yaml: rollout({ strategy: "    canary:\n      stableService: web\n      canaryService: web #!" }),
    field: "spec.strategy.canary.canaryService",
    message: /stableService and canaryService must differ/,
  },
  {
    name: "router without services",
    yaml: rollout({ strategy: "    canary:\n      trafficRouting: #!\n        gatewayAPI: {httpRoute: web}" }),
    field: "spec.strategy.canary.trafficRouting",
    message: /trafficRouting needs stableService and canaryService/,
  },
  {
    name: "two routers",
    yaml: rollout({
      strategy:
        "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting: #!\n        gatewayAPI: {httpRoute: web}\n        nginx: {stableIngress: web}",
    }),
    field: "spec.strategy.canary.trafficRouting",
    message: /exactly one router/,
  },
  {
    name: "errorBudget rechecked less often than hourly",
    yaml: rollout({
      strategy:
        "    canary:\n      steps:\n      - errorBudget:\n          templates: [{templateName: budget}]\n          recheckInterval: 2h #!",
    }),
    field: "spec.strategy.canary.steps[0].errorBudget.recheckInterval",
    message: /at most 1h/,
  },
  {
    name: "errorBudget rechecked every 0s (a loop of AnalysisRuns)",
    yaml: rollout({
      strategy:
        "    canary:\n      steps:\n      - errorBudget:\n          templates: [{templateName: budget}]\n          recheckInterval: 0s #!",
    }),
    field: "spec.strategy.canary.steps[0].errorBudget.recheckInterval",
    message: /at least 5s/,
  },
  {
    name: "errorBudget rechecked every second, in whole seconds",
    yaml: rollout({
      strategy:
        "    canary:\n      steps:\n      - errorBudget:\n          templates: [{templateName: budget}]\n          recheckInterval: 1 #!",
    }),
    field: "spec.strategy.canary.steps[0].errorBudget.recheckInterval",
    message: /at least 5s/,
  },
  {
    name: "errorBudget without templates",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - errorBudget: {} #!" }),
    field: "spec.strategy.canary.steps[0].errorBudget.templates",
    message: /required field is missing/,
  },
  {
    name: "gateway without a route",
    yaml: rollout({
      strategy: "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {} #!",
    }),
    field: "spec.strategy.canary.trafficRouting.gatewayAPI",
    message: /name the routes: httpRoute, httpRoutes or grpcRoutes/,
  },
  {
    name: "gateway with both httpRoute and httpRoutes",
    yaml: rollout({
      strategy:
        "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {httpRoute: web, httpRoutes: [{name: web}]} #!",
    }),
    field: "spec.strategy.canary.trafficRouting.gatewayAPI",
    message: /at most one of httpRoute or httpRoutes/,
  },
  {
    name: "gateway routes in a namespace that is no namespace name",
    yaml: rollout({
      strategy:
        "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {httpRoute: web, namespace: Other_NS} #!",
    }),
    field: "spec.strategy.canary.trafficRouting.gatewayAPI.namespace",
    message: /must be a namespace name/,
  },
  {
    name: "header route not in managedRoutes",
    yaml: rollout({
      strategy:
        "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {httpRoute: web}\n      steps: #!\n      - setHeaderRoute: {name: beta, match: [{headerName: x-beta, headerValue: {exact: '1'}}]}",
    }),
    field: "spec.strategy.canary.steps",
    message: /managedRoutes/,
  },
  {
    name: "header value with two matchers",
    yaml: rollout({
      strategy:
        "    canary:\n      stableService: a\n      canaryService: b\n      trafficRouting:\n        gatewayAPI: {httpRoute: web}\n        managedRoutes: [{name: beta}]\n      steps:\n      - setHeaderRoute:\n          name: beta\n          match:\n          - headerName: x-beta\n            headerValue: {exact: '1', prefix: '1'} #!",
    }),
    field: "spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue",
    message: /exactly one of exact, prefix or regex/,
  },
  {
    name: "canary scale with two settings",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - setCanaryScale: {replicas: 1, weight: 20} #!" }),
    field: "spec.strategy.canary.steps[0].setCanaryScale",
    message: /exactly one of replicas, weight or matchTrafficWeight/,
  },
  {
    name: "maxSurge in words",
    yaml: rollout({ strategy: "    canary:\n      maxSurge: 25 percent #!" }),
    field: "spec.strategy.canary.maxSurge",
    message: /percentage like "25%"/,
  },
  {
    name: "maxSurge and maxUnavailable both zero",
    yaml: rollout({ strategy: "    canary:\n      maxSurge: 0\n      maxUnavailable: 0% #!" }),
    field: "spec.strategy.canary.maxUnavailable",
    message: /cannot both be zero/,
  },
  {
    name: "unsupported version",
    yaml: rollout({ header: "apiVersion: ramp.dev/v1beta1 #!\nkind: Rollout\nmetadata:\n  name: web" }),
    field: "apiVersion",
    message: /unsupported version "ramp.dev\/v1beta1"/,
  },
  {
    name: "unknown kind",
    yaml: rollout({ header: "apiVersion: ramp.dev/v1alpha1\nkind: RollOut #!\nmetadata:\n  name: web" }),
    field: "kind",
    message: /unknown kind "RollOut"/,
  },
  {
    name: "no name",
    yaml: rollout({ header: "apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata: #!\n  namespace: web" }),
    field: "metadata.name",
    message: /required field is missing/,
  },
  {
    name: "workloadRef to a StatefulSet",
    yaml: rollout({ template: "  workloadRef: {name: web, kind: StatefulSet} #!" }),
    field: "spec.workloadRef.kind",
    message: /Deployment/,
  },
  {
    name: "analysis step without templates",
    yaml: rollout({ strategy: "    canary:\n      steps:\n      - analysis: {templates: []} #!" }),
    field: "spec.strategy.canary.steps[0].analysis.templates",
    message: /at least one template/,
  },
  {
    name: "analysis arg with value and valueFrom",
    yaml: rollout({
      strategy:
        "    canary:\n      steps:\n      - analysis:\n          templates: [{templateName: t}]\n          args:\n          - {name: h, value: x, valueFrom: {podTemplateHashValue: Stable}} #!",
    }),
    field: "spec.strategy.canary.steps[0].analysis.args[0]",
    message: /exactly one of value or valueFrom/,
  },
  {
    name: "restartAt not a time",
    yaml: rollout({ spec: "  restartAt: yesterday #!\n" }),
    field: "spec.restartAt",
    message: /datetime/,
  },
  {
    name: "progress deadline shorter than minReadySeconds",
    yaml: rollout({ spec: "  minReadySeconds: 30\n  progressDeadlineSeconds: 10 #!\n" }),
    field: "spec.progressDeadlineSeconds",
    message: /greater than minReadySeconds/,
  },
  {
    name: "container without image",
    yaml: rollout({
      template: "  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: web} #!",
    }),
    field: "spec.template.spec.containers[0].image",
    message: /required field is missing/,
  },
  {
    name: "startingStep past the last step",
    yaml: rollout({
      strategy: `    canary:\n      analysis: #!\n        templates: [{templateName: t}]\n        startingStep: 5\n${STEPS}`,
    }),
    field: "spec.strategy.canary.analysis",
    message: /startingStep is past the last step/,
  },
  {
    name: "metric without provider",
    yaml: template("  - name: errors #!\n    successCondition: result < 1"),
    field: "spec.metrics[0].provider",
    message: /required field is missing/,
  },
  {
    name: "metric with two providers",
    yaml: template(
      "  - name: errors\n    successCondition: result < 1\n    provider: #!\n      prometheus: {query: up}\n      slo: {source: http, service: a, namespace: b, errorRate: {max: 0.1}}",
    ),
    field: "spec.metrics[0].provider",
    message: /exactly one provider/,
  },
  {
    name: "burnRate with both traffic and queries",
    yaml: template(
      "  - name: burn\n    provider:\n      burnRate: #!\n        objective: 0.999\n        traffic: {source: http, service: a, namespace: b}\n        queries: {good: g, total: t}",
    ),
    field: "spec.metrics[0].provider.burnRate",
    message: /exactly one of traffic or queries/,
  },
  {
    name: "burnRate with windows and budget",
    yaml: template(
      "  - name: burn\n    provider:\n      burnRate: #!\n        objective: 0.999\n        traffic: {source: http, service: a, namespace: b}\n        windows: [{long: 1h, short: 5m, factor: 14.4}]\n        budget: {window: 1h}",
    ),
    field: "spec.metrics[0].provider.burnRate",
    message: /windows or budget, not both/,
  },
  {
    name: "burnRate objective of 100%",
    yaml: template(
      "  - name: burn\n    provider:\n      burnRate:\n        objective: 1 #!\n        traffic: {source: http, service: a, namespace: b}",
    ),
    field: "spec.metrics[0].provider.burnRate.objective",
    message: /Too big/,
  },
  {
    name: "burnRate window longer than a week",
    yaml: template(
      "  - name: burn\n    provider:\n      burnRate:\n        objective: 0.99\n        traffic: {source: http, service: a, namespace: b}\n        budget: {window: 200h} #!",
    ),
    field: "spec.metrics[0].provider.burnRate.budget.window",
    message: /at most/,
  },
  {
    name: "duplicate metric names",
    yaml: template(`${promMetric}\n${promMetric}`).replace("  metrics:", "  metrics: #!"),
    field: "spec.metrics",
    message: /metric names must be unique/,
  },
  {
    name: "unknown noData policy",
    yaml: template(`${promMetric}\n    noData: ignore #!`),
    field: "spec.metrics[0].noData",
    message: /expected one of "inconclusive"\|"fail"\|"pass"/,
  },
  {
    name: "prometheus metric without conditions",
    yaml: template("  - name: errors #!\n    provider:\n      prometheus: {query: up}"),
    field: "spec.metrics[0]",
    message: /needs successCondition, failureCondition or both/,
  },
  {
    name: "slo with nothing to check",
    yaml: template("  - name: slo\n    provider:\n      slo: {source: istio, service: a, namespace: b} #!"),
    field: "spec.metrics[0].provider.slo",
    message: /set errorRate, latency or both/,
  },
  {
    name: "slo quantile above 1",
    yaml: template(
      "  - name: slo\n    provider:\n      slo:\n        source: istio\n        service: a\n        namespace: b\n        latency: {quantile: 1.5, max: 500ms} #!",
    ),
    field: "spec.metrics[0].provider.slo.latency.quantile",
    message: /<1/,
  },
  {
    name: "judge with only a canary query",
    yaml: template("  - name: j\n    provider:\n      judge: {canary: up, window: 10m} #!"),
    field: "spec.metrics[0].provider.judge",
    message: /canary and baseline queries, or counts/,
  },
  {
    name: "interval in words",
    yaml: template(`${promMetric}\n    interval: 5 min #!`),
    field: "spec.metrics[0].interval",
    message: /must be a duration/,
  },
  {
    name: "misspelt field in a template",
    yaml: template(`${promMetric}\n    sucessCondition: result > 0 #!`),
    field: "spec.metrics[0].sucessCondition",
    message: /unknown field "sucessCondition"/,
  },
  {
    name: "cluster template with a namespace",
    yaml: template(promMetric, "kind: ClusterAnalysisTemplate\nmetadata:\n  name: t\n  namespace: shop #!"),
    field: "metadata.namespace",
    message: /cluster-scoped/,
  },
  {
    name: "unsafe Prometheus address",
    yaml: template(promMetric.replace('{query: "sum(rate(x[1m]))"}', '{query: up, address: "file:///etc/passwd"} #!')),
    field: "spec.metrics[0].provider.prometheus.address",
    message: /http\(s\) URL/,
  },
  {
    name: "document is a list",
    yaml: "- apiVersion: ramp.dev/v1alpha1 #!\n  kind: Rollout\n",
    field: "(document)",
    message: /must be a mapping/,
  },
  {
    name: "kind missing",
    yaml: "apiVersion: ramp.dev/v1alpha1 #!\nmetadata: {name: x}\n",
    field: "kind",
    message: /required field is missing/,
  },
];

const markedLine = (yaml: string) => yaml.split("\n").findIndex((l) => l.includes("#!")) + 1;

describe("ramp lint: broken manifests", () => {
  it("has a mark on every case", () => {
    for (const c of cases) expect(markedLine(c.yaml), c.name).toBeGreaterThan(0);
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)("$name", ({ yaml, field, message }) => {
    const all = lintText(yaml, "case.yaml");
    expect(exitCodeOf(all)).toBe(1);
    const findings = all.filter((f) => f.severity === "error");
    expect(findings.map(formatFinding)).toContainEqual(expect.stringMatching(message));
    const hit = findings.find((f) => message.test(f.message));
    expect(hit?.field).toBe(field);
    expect(hit?.line).toBe(markedLine(yaml));
  });
});

describe("ramp lint: YAML syntax", () => {
  it.each([
    {
      name: "unclosed flow mapping",
      yaml: "apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata: {name: x\nspec: #!\n  replicas: 1\n",
    },
    { name: "duplicate key", yaml: "apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nkind: Rollout #!\n" },
    { name: "tab indentation", yaml: "apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nspec:\n\treplicas: 1 #!\n" },
  ])("$name is reported with its line, not a stack trace", ({ yaml }) => {
    const findings = lintText(yaml, "bad.yaml");
    expect(exitCodeOf(findings)).toBe(1);
    const [first] = findings;
    expect(first?.message).toMatch(/^YAML: /);
    expect(first?.line).toBe(markedLine(yaml));
  });
});

const doc = (body: string) => `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata: {name: web}\n${body}`;

describe("ramp lint: hostile input is a finding, never a crash or a stall", () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
  ].join("\n");

  it.each([
    { name: "an alias bomb", yaml: `${bomb}\nspec: *e\n`, message: /^YAML: Excessive alias count.*past 100/ },
    {
      name: "a document over 1.5 MiB",
      yaml: `x: "${"a".repeat(1.5 * 1024 * 1024)}"\n`,
      message: /etcd refuses objects over 1572864/,
    },
    {
      name: "200k keys",
      yaml: doc(`spec:\n${Array.from({ length: 200_000 }, (_, i) => `  k${i}: v`).join("\n")}\n`),
      message: /etcd refuses objects over/,
    },
    {
      name: "19k keys (under the old 20k-line limit, 8 s at load 10)",
      yaml: doc(`spec:\n${Array.from({ length: 19_000 }, (_, i) => `  k${i}: v`).join("\n")}\n`),
      message: /more than 20000 YAML tokens/,
    },
    {
      name: "19k keys in one flow mapping on one line",
      yaml: doc(`spec: {${Array.from({ length: 19_000 }, (_, i) => `k${i}: v`).join(", ")}}\n`),
      message: /more than 20000 YAML tokens/,
    },
    {
      name: "block sequences nested 9,000 deep on one line",
      yaml: doc(`spec:\n  ${"- ".repeat(9000)}x\n`),
      message: /nested deeper than 64/,
    },
    {
      name: "flow nesting 100k deep",
      yaml: doc(`spec: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`),
      message: /nested deeper than 64/,
    },
    {
      name: "block nesting 1,700 deep by indentation (it overflowed the composer's stack)",
      yaml: doc(`spec:\n${Array.from({ length: 1700 }, (_, i) => `${" ".repeat(i + 1)}a:`).join("\n")} x\n`),
      message: /nested deeper than 64/,
    },
    {
      name: "block nesting 100 deep",
      yaml: doc(`spec:\n${Array.from({ length: 100 }, (_, i) => `${" ".repeat(i + 1)}a:`).join("\n")}\n`),
      message: /nested deeper than 64/,
    },
    {
      name: "a duplicate key in a large map",
      yaml: doc(`spec:\n${Array.from({ length: 2000 }, (_, i) => `  k${i}: v`).join("\n")}\n  k42: again\n`),
      message: /^YAML: duplicate key "k42"/,
    },
  ])("$name", ({ yaml, message }) => {
    const started = performance.now();
    const findings = lintText(yaml, "x.yaml");
    expect(findings.map((f) => f.message)).toContainEqual(expect.stringMatching(message));
    expect(exitCodeOf(findings)).toBe(1);
    expect(performance.now() - started).toBeLessThan(20_000); // generous: minutes before the fix
  });

  it("a 1 MiB gate URL is refused by its length, not stuck in a regex (it was quadratic)", () => {
    const url = `http://${"a".repeat(1024 * 1024)} `;
    const findings = lintText(
      rollout({ strategy: `    canary:\n      steps:\n      - gate: {name: g, url: "${url}"}` }),
      "x.yaml",
    );
    expect(findings.map((f) => f.field)).toContain("spec.strategy.canary.steps[0].gate.url");
  });

  it("a bad document does not hide the next one, in the same file", () => {
    const yaml = `${bomb}\n---\n${rollout().replace("  replicas: 3", "  replicas: -1")}---\nkey: [unclosed\n---\n${rollout().replace("name: web", "name: Web_1")}`;
    const findings = lintText(yaml, "many.yaml");
    expect(findings.map(formatFinding)).toEqual([
      expect.stringMatching(/^many.yaml:5: YAML: Excessive alias count/),
      expect.stringMatching(/^many.yaml:12: Rollout\/web: spec.replicas: Too small/),
      expect.stringMatching(/^many.yaml:28: YAML: Flow sequence/),
      expect.stringMatching(/^many.yaml:32: Rollout\/Web_1: metadata.name: must be a DNS subdomain/),
    ]);
  });

  it.each([
    {
      name: "octal replicas",
      yaml: rollout().replace("  replicas: 3", "  replicas: 010 #!"),
      field: "spec.replicas",
      message: "kubectl reads 010 as the number 8, ramp lint (YAML 1.2) as the number 10",
    },
    {
      name: "a label on",
      yaml: rollout().replace("labels: {app: web}", "labels: {app: web, canary: on} #!"),
      field: "spec.template.metadata.labels.canary",
      message: 'kubectl reads on as the boolean true, ramp lint (YAML 1.2) as the string "on"',
    },
    {
      name: "a key y",
      yaml: rollout().replace("  replicas: 3", "  replicas: 3\n  y: 1 #!"),
      field: "spec.y",
      message: "kubectl reads y as the boolean true",
    },
    {
      name: "underscores",
      yaml: rollout({ strategy: "    canary:\n      steps:\n      - setWeight: 1_0 #!" }),
      field: "spec.strategy.canary.steps[0].setWeight",
      message: "kubectl reads 1_0 as the number 10",
    },
  ])("YAML 1.1: $name is flagged with both readings", ({ yaml, field, message }) => {
    const hit = lintText(yaml, "x.yaml").find((f) => f.message.includes(message));
    expect(hit).toMatchObject({ field, line: markedLine(yaml), severity: "error" });
  });

  it.each([
    { field: "successCondition", condition: "result <", message: /does not compile/ },
    { field: "failureCondition", condition: "nosuch(result)", message: /unknown function nosuch/ },
    { field: "successCondition", condition: "x > 1", message: /unknown name x/ },
  ])("a $field that does not compile is an error naming the field", ({ field, condition, message }) => {
    const yaml = template(`  - name: errors\n    ${field}: "${condition}" #!\n    provider:\n      prometheus: {query: up}`);
    const hit = lintText(yaml, "t.yaml").find((f) => message.test(f.message));
    expect(hit).toMatchObject({ field: `spec.metrics[0].${field}`, line: markedLine(yaml), object: "AnalysisTemplate/t" });
  });

  it.each([
    {
      name: "a label value over 63",
      yaml: rollout({
        header: `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  labels: {team: ${"a".repeat(64)}} #!`,
      }),
      field: "metadata.labels.team",
    },
    {
      name: "a name over 253",
      yaml: rollout({ header: `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata:\n  name: ${"a".repeat(254)} #!` }),
      field: "metadata.name",
    },
    {
      name: "annotations over 256 KiB",
      yaml: rollout({
        header: `apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  annotations: #!\n    a: ${"x".repeat(300_000)}`,
      }),
      field: "metadata.annotations",
    },
  ])("metadata like the apiserver: $name", ({ yaml, field }) => {
    expect(lintText(yaml, "x.yaml").find((f) => f.field === field)?.line).toBe(markedLine(yaml));
  });
});

describe("ramp lint: a ratio that is empty on a healthy service", () => {
  const ratio = (query: string) =>
    template(
      `  - name: errors\n    successCondition: result < 0.01\n    provider:\n      prometheus:\n        query: '${query}' #!`,
    );
  it.each([
    {
      name: "5xx over all, unguarded: a note on the query's line",
      query: 'sum(rate(x{code=~"5.."}[1m])) / sum(rate(x[1m]))',
      note: /AnalysisTemplate\/t: spec\.metrics\[0\]\.provider\.prometheus\.query: .*\(code=~"5\.\."\).*or vector\(0\)/,
    },
    {
      name: "guarded with or vector(0): nothing",
      query: '(sum(rate(x{code=~"5.."}[1m])) or vector(0)) / sum(rate(x[1m]))',
      note: undefined,
    },
  ])("$name", ({ query, note }) => {
    const yaml = ratio(query);
    const findings = lintText(yaml, "t.yaml");
    expect(exitCodeOf(findings)).toBe(0);
    const notes = findings.filter((f) => f.severity === "note");
    if (!note) return expect(notes).toEqual([]);
    expect(notes).toHaveLength(1);
    expect(notes[0]?.line).toBe(markedLine(yaml));
    expect(formatFinding(notes[0] as (typeof notes)[0])).toMatch(note);
  });
});

// Each case starts the CLI; generous for machines where other engineers run tests at the same time.
describe("ramp lint: the command", { timeout: 90_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ramp-lint-"));
  const bad = join(dir, "bad.yaml");
  writeFileSync(
    bad,
    `${rollout({ strategy: "    canary:\n      steps:\n      - setWeight: 120" })}---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n`,
  );

  it("exits 1 and prints FILE:LINE: kind/name: field: message", async () => {
    const err = await run(process.execPath, [main, "lint", bad]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stdout).toContain(
      `${bad}:18: Rollout/web: spec.strategy.canary.steps[0].setWeight: Too big: expected number to be <=100`,
    );
    expect(err.stdout).toContain(`${bad}:19: note: skipped not a Ramp object (v1 Service/s)`);
  });

  it("exits 0 on every example and reads a folder", async () => {
    const { stdout } = await run(process.execPath, [main, "lint", "examples/"]);
    expect(stdout).not.toMatch(/Rollout\/|AnalysisTemplate\//);
    expect(expandInputs(["examples"]).length).toBeGreaterThanOrEqual(6);
  });

  it("reads standard input with -", async () => {
    const child = run(process.execPath, [main, "lint", "-"]);
    child.child.stdin?.end("apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec: {}\n");
    const err = await child.catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stdout).toContain("<stdin>:4: Rollout/x: spec.selector: required field is missing");
  });

  it("reads -f FILE, repeatable, beside positional files, and - for stdin", async () => {
    const good = join(dir, "good.yaml");
    writeFileSync(good, rollout());
    const child = run(process.execPath, [main, "lint", "-f", good, "--filename", bad, "-f", "-"]);
    child.child.stdin?.end("apiVersion: ramp.dev/v1alpha1\nkind: Rollout\nmetadata: {name: x}\nspec: {}\n");
    const err = await child.catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stdout).toContain(`${bad}:18: Rollout/web`);
    expect(err.stdout).toContain("<stdin>:4: Rollout/x: spec.selector: required field is missing");
    expect(err.stdout).not.toContain(good);
    const none = await run(process.execPath, [main, "lint"]).catch((e) => e);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("needs a file");
  });

  it("reports an unreadable file and exits 1", async () => {
    const err = await run(process.execPath, [main, "lint", join(dir, "missing.yaml")]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stdout).toContain("missing.yaml: cannot read: ENOENT");
  });

  it("prints help and version", async () => {
    expect((await run(process.execPath, [main, "--help"])).stdout).toContain("lint");
    expect((await run(process.execPath, [main, "lint", "--help"])).stdout).toContain("-f, --filename <file>");
    expect((await run(process.execPath, [main, "version"])).stdout).toMatch(/^ramp \d+\.\d+\.\d+ \(API ramp.dev\/v1alpha1/);
  });
});
