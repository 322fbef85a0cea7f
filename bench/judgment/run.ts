// One AnalysisRun over one simulated canary, driven as the AnalysisRun controller drives it: measure
// what dueMetrics names, advanceRun, wait requeueAfterMs, until the run ends.
import { advanceRun, dueMetrics } from "../../src/analysis/evaluate.ts";
import type { ProviderOutcome } from "../../src/analysis/types.ts";
import type { AnalysisPhase, AnalysisRunStatus } from "../../src/api/analysis.ts";
import type { Method, World } from "./methods.ts";

/** Where simulated time starts (the canary's first second); any fixed instant would do. */
const ORIGIN_MS = Date.UTC(2025, 0, 1);
/** A run that has not ended after this many rounds is a bug of the study, not a verdict. */
const MAX_ROUNDS = 1000;

export interface RunEnd {
  phase: AnalysisPhase;
  /** Seconds after the canary started when the run ended. */
  atS: number;
  /** The deciding metrics that ended badly. */
  culprits: string[];
}

export function runAnalysis(method: Method, world: World): RunEnd {
  let status: AnalysisRunStatus | undefined;
  let nowMs = 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const now = new Date(ORIGIN_MS + nowMs);
    const outcomes: Record<string, ProviderOutcome> = {};
    for (const metric of dueMetrics(method.spec, status, now)) {
      const measure = method.measure[metric.name];
      if (!measure) throw new Error(`method ${method.name} cannot measure metric ${metric.name}`);
      outcomes[metric.name] = measure(world, nowMs / 1000);
    }
    const step = advanceRun(method.spec, status, now, outcomes);
    status = step.status;
    if (step.requeueAfterMs === undefined) {
      const culprits = (status.metricResults ?? [])
        .filter((r) => r.phase === "Failed" || r.phase === "Inconclusive")
        .map((r) => r.name);
      return { phase: status.phase ?? "Pending", atS: nowMs / 1000, culprits };
    }
    nowMs += step.requeueAfterMs;
  }
  throw new Error(`method ${method.name}: the run did not end within ${MAX_ROUNDS} rounds`);
}
