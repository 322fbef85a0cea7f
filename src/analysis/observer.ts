// What the AnalysisRun controller reports for metrics: each run as its cache holds it. The server
// implements it with prom-client; the controller only calls it.
import type { AnalysisRunStatus } from "../api/analysis.ts";

/** The parts of an AnalysisRun the metrics read. */
export interface ObservedAnalysisRun {
  metadata: {
    namespace: string;
    name: string;
    creationTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  status?: AnalysisRunStatus;
}

export interface AnalysisRunObserver {
  /** A run added or changed (undefined: deleted), keyed `namespace/name`. */
  analysisRun(key: string, run: ObservedAnalysisRun | undefined): void;
}
