import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { convertFiles } from "./convert.ts";
import { exitCodeOf, formatFinding } from "./report.ts";

const convert = (text: string) => {
  const { outputs, findings } = convertFiles([{ file: "in.yaml", text }]);
  const text_ = outputs.map((o) => o.text).join("---\n");
  return {
    text: text_,
    objects: parseAllDocuments(text_).map((d) => d.toJS()),
    report: findings.map(formatFinding),
    code: exitCodeOf(findings),
  };
};

const ARGO = `# the web app
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web:1}]}}
  strategy:
    canary:
      steps:
      - setWeight: 20 # a fifth
      - pause: {duration: 1m}
`;

const canary = (analysis: string, extra = "") => `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web, namespace: shop}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  service: {port: 80, targetPort: 8080}
${extra}  analysis:
${analysis}`;

describe("convertFiles", () => {
  it.each([
    ["an Argo Rollout Ramp has every field of", ARGO, 0],
    ["an unknown field", ARGO.replace("  strategy:", "  surprise: 1\n  strategy:"), 1],
    ["a kind Ramp does not have", "apiVersion: argoproj.io/v1alpha1\nkind: Experiment\nmetadata: {name: x}\n", 1],
    ["YAML that does not parse", "a: [1, 2\n", 3],
    ["a document that is not an object", "- 1\n- 2\n", 3],
    ["another kind, passed through", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", 0],
    ["an empty document", "---\n", 0],
    [
      "a Flagger interval that is not a duration",
      "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: x}\nspec:\n  targetRef: {name: x}\n  analysis: {interval: soon, iterations: 3, match: [{headers: {a: {exact: b}}}]}\n",
      3,
    ],
    ["nesting deeper than 64 levels", `${"[".repeat(100)}${"]".repeat(100)}\n`, 3],
    [
      "an alias bomb",
      "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
      3,
    ],
  ])("%s: exit %i", (_, text, code) => expect(convert(text).code).toBe(code));

  it("keeps comments on the fields they were on", () => {
    const { text } = convert(ARGO);
    expect(text).toMatch(/^# the web app\napiVersion: ramp.dev\/v1alpha1/);
    expect(text).toContain("- setWeight: 20 # a fifth");
  });

  it("reports an unknown field with its line and path", () => {
    expect(convert(ARGO.replace("  strategy:", "  surprise: 1\n  strategy:")).report).toEqual([
      "in.yaml:8: Rollout/web: spec.surprise: not converted: no such field in Ramp",
    ]);
  });

  it.each([
    ["stepWeight to maxWeight", "    interval: 30s\n    stepWeight: 20\n    maxWeight: 60\n", [20, 40, 60]],
    ["stepWeights", "    interval: 30s\n    stepWeights: [5, 50]\n", [5, 50]],
    ["stepWeight without maxWeight stops before 100", "    interval: 30s\n    stepWeight: 40\n", [40, 80]],
  ])("Flagger %s become weight steps, each followed by a pause of the interval", (_, analysis, weights) => {
    const rollout = convert(canary(analysis)).objects[0];
    expect(rollout.spec.strategy.canary.steps).toEqual(
      weights.flatMap((w) => [{ setWeight: w }, { pause: { duration: "30s" } }]),
    );
    expect(rollout.spec.workloadRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "web", scaleDown: "onsuccess" });
  });

  it.each([["1"], ["5e-324"]])("a stepWeight of %s is cut at Ramp's 64 steps and reported", (step) => {
    const { objects, report } = convert(canary(`    interval: 30s\n    stepWeight: ${step}\n`));
    expect(objects[0].spec.strategy.canary.steps).toHaveLength(64);
    expect(report.join("\n")).toMatch(/stepWeight: not converted: more than 64 steps/);
  });

  it("a Flagger A/B test becomes header routes held for interval x iterations", () => {
    const analysis = "    interval: 1m\n    iterations: 5\n    match:\n    - headers: {x-canary: {exact: insider}}\n";
    const steps = convert(canary(analysis)).objects[0].spec.strategy.canary.steps;
    expect(steps).toEqual([
      { setHeaderRoute: { name: "ab-1", match: [{ headerName: "x-canary", headerValue: { exact: "insider" } }] } },
      { pause: { duration: "5m" } },
    ]);
  });

  it("Flagger thresholds become the slo provider and failureLimit threshold - 1", () => {
    const analysis =
      "    interval: 1m\n    threshold: 3\n    stepWeight: 50\n    metrics:\n    - {name: request-success-rate, thresholdRange: {min: 99}, interval: 2m}\n";
    const template = convert(canary(analysis)).objects[1];
    expect(template.kind).toBe("AnalysisTemplate");
    expect(template.spec.metrics[0]).toMatchObject({
      failureLimit: 2,
      interval: "1m",
      provider: { slo: { source: "http", service: "web-canary", window: "2m", errorRate: { max: 0.01 } } },
    });
  });

  it("a confirm-promotion webhook becomes the last step, a gate that pauses", () => {
    const analysis =
      "    interval: 1m\n    stepWeight: 50\n    webhooks:\n    - {name: ok, type: confirm-promotion, url: 'http://gate/'}\n";
    expect(convert(canary(analysis)).objects[0].spec.strategy.canary.steps.at(-1)).toEqual({
      gate: { name: "ok", url: "http://gate/", retries: 100, retryDelay: "1m", onFailure: "pause" },
    });
  });
});
