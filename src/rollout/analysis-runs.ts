// Pure: the AnalysisRun a Rollout starts for one of its analyses — the templates' metrics composed,
// the Rollout's arguments resolved (pod-template hashes, its own fields), owned and labelled so the
// controller finds it again.

import { fieldValue } from "../analysis/args.ts";
import { buildRunSpec, type RunTemplate } from "../analysis/run-spec.ts";
import type { AnalysisRunSpec } from "../api/analysis.ts";
import { API_VERSION } from "../api/group.ts";
import { ownerReference } from "../api/owner-reference.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import {
  ANALYSIS_ROLE_LABEL,
  type AnalysisRunObject,
  INSTANCE_ID_LABEL,
  ROLLOUT_LABEL,
  type RolloutObject,
  STEP_INDEX_LABEL,
} from "./objects.ts";
import type { AnalysisRole, RolloutAnalysis } from "./plan/types.ts";

export type { RunTemplate as FoundTemplate } from "../analysis/run-spec.ts";

/** The hashes podTemplateHashValue names; `baseline` only when the Rollout runs one. */
export interface RunHashes {
  stable: string;
  latest: string;
  baseline?: string;
}

/** The Rollout's arguments with hashes and fields resolved to values. */
export function resolveRolloutArgs(
  analysis: RolloutAnalysis,
  rollout: RolloutObject,
  hashes: RunHashes,
): NonNullable<AnalysisRunSpec["args"]> {
  return (analysis.args ?? []).map((arg) => {
    if (arg.value !== undefined) return { name: arg.name, value: arg.value };
    const from = arg.valueFrom;
    if (from?.podTemplateHashValue === "Baseline") {
      if (hashes.baseline === undefined) {
        throw new Error(`analysis argument "${arg.name}": podTemplateHashValue Baseline needs strategy.canary.baseline.enabled`);
      }
      return { name: arg.name, value: hashes.baseline };
    }
    if (from?.podTemplateHashValue) {
      return { name: arg.name, value: from.podTemplateHashValue === "Stable" ? hashes.stable : hashes.latest };
    }
    const path = from?.fieldRef?.fieldPath ?? "";
    const value = fieldValue(rollout, path);
    if (value === undefined) throw new Error(`analysis argument "${arg.name}": the Rollout has no field ${path}`);
    return { name: arg.name, value };
  });
}

export function analysisRunFor(opts: {
  name: string;
  rollout: RolloutObject;
  role: AnalysisRole;
  hash: string;
  stepIndex?: number;
  analysis: RolloutAnalysis;
  templates: RunTemplate[];
  hashes: RunHashes;
}): AnalysisRunObject {
  const { rollout, analysis } = opts;
  const instance = rollout.metadata.labels?.[INSTANCE_ID_LABEL];
  const spec = buildRunSpec(
    opts.templates,
    resolveRolloutArgs(analysis, rollout, opts.hashes),
    analysis.dryRun?.map((d) => d.metricName),
  );
  return {
    apiVersion: API_VERSION,
    kind: "AnalysisRun",
    metadata: {
      name: opts.name,
      namespace: rollout.metadata.namespace,
      labels: {
        // The analysis controller of the same instance measures it.
        ...(instance ? { [INSTANCE_ID_LABEL]: instance } : {}),
        [ROLLOUT_LABEL]: rollout.metadata.name,
        [ANALYSIS_ROLE_LABEL]: opts.role,
        [POD_TEMPLATE_HASH_LABEL]: opts.hash,
        ...(opts.stepIndex !== undefined ? { [STEP_INDEX_LABEL]: String(opts.stepIndex) } : {}),
      },
      ownerReferences: [ownerReference(rollout)],
    },
    spec,
  };
}
