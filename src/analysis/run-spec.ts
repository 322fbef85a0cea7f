// An AnalysisRun's spec from one or more templates and the caller's arguments: metrics composed,
// arguments merged (caller's values win over defaults), dryRun and retention unioned.
import type { AnalysisRunSpec, AnalysisTemplate } from "../api/analysis.ts";

export interface RunTemplate {
  name: string;
  kind: "AnalysisTemplate" | "ClusterAnalysisTemplate";
  spec: AnalysisTemplate["spec"];
}

type RunArg = NonNullable<AnalysisRunSpec["args"]>[number];

function mergeArgs(templates: RunTemplate[], given: RunArg[]): RunArg[] {
  const supplied = new Map(given.map((a) => [a.name, a]));
  const merged = new Map<string, RunArg>();
  for (const template of templates) {
    for (const arg of template.spec.args ?? []) {
      const from = supplied.get(arg.name);
      if (from) {
        merged.set(arg.name, from);
        continue;
      }
      const earlier = merged.get(arg.name);
      if (arg.value !== undefined) {
        if (earlier?.value !== undefined && earlier.value !== arg.value) {
          throw new Error(
            `${template.kind} "${template.name}": argument "${arg.name}" defaults to "${arg.value}" but another template says "${earlier.value}"; pass it explicitly`,
          );
        }
        merged.set(arg.name, { name: arg.name, value: arg.value });
      } else if (arg.valueFrom?.secretKeyRef) {
        merged.set(arg.name, { name: arg.name, valueFrom: { secretKeyRef: arg.valueFrom.secretKeyRef } });
      } else if (arg.valueFrom?.fieldRef) {
        merged.set(arg.name, { name: arg.name, valueFrom: { fieldRef: arg.valueFrom.fieldRef } });
      } else if (!earlier) {
        const what = arg.valueFrom?.podTemplateHashValue ? "a pod-template hash only a Rollout can supply" : "no default";
        throw new Error(`${template.kind} "${template.name}": argument "${arg.name}" is required (${what})`);
      }
    }
  }
  return [...merged.values()];
}

/** The run's spec; throws an Error naming the template and the field when they cannot be combined. */
export function buildRunSpec(templates: RunTemplate[], args: RunArg[], dryRunNames: string[] = []): AnalysisRunSpec {
  if (templates.length === 0) throw new Error("no analysis template given");
  const metrics: AnalysisRunSpec["metrics"] = [];
  const owner = new Map<string, string>();
  for (const template of templates) {
    for (const metric of template.spec.metrics) {
      const first = owner.get(metric.name);
      if (first) {
        throw new Error(`metric "${metric.name}" is defined by both ${first} and ${template.kind} "${template.name}"`);
      }
      owner.set(metric.name, `${template.kind} "${template.name}"`);
      metrics.push(metric);
    }
  }
  const dryRun = [...new Set([...templates.flatMap((t) => t.spec.dryRun?.map((d) => d.metricName) ?? []), ...dryRunNames])];
  const retention = templates.flatMap((t) => t.spec.measurementRetention ?? []);
  const mergedArgs = mergeArgs(templates, args);
  return {
    metrics,
    ...(mergedArgs.length ? { args: mergedArgs } : {}),
    ...(dryRun.length ? { dryRun: dryRun.map((metricName) => ({ metricName })) } : {}),
    ...(retention.length ? { measurementRetention: retention } : {}),
  };
}
