// The one list of Ramp's kinds: what the CRD generator writes and what `ramp lint` checks.
import type { z } from "zod";
import {
  analysisRun,
  analysisRunSpec,
  analysisRunStatus,
  analysisTemplate,
  analysisTemplateSpec,
  clusterAnalysisTemplate,
} from "./analysis.ts";
import { fleetRollout, fleetRolloutSpec, fleetRolloutStatus } from "./fleet.ts";
import { API_VERSION } from "./group.ts";
import { rollout, rolloutSpec, rolloutStatus } from "./rollout.ts";

export { API_VERSION };
export const [GROUP, VERSION] = API_VERSION.split("/") as [string, string];

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date" | "number" | "boolean";
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface KindDef {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  /** The whole object, as `ramp lint` checks it. */
  object: z.ZodType;
  spec: z.ZodType;
  status?: z.ZodType;
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const KINDS: readonly KindDef[] = [
  {
    kind: "Rollout",
    plural: "rollouts",
    singular: "rollout",
    shortNames: ["rro"],
    scope: "Namespaced",
    description: "A Deployment replacement that ships new versions by canary or blue-green, with traffic routing and analysis.",
    object: rollout,
    spec: rolloutSpec,
    status: rolloutStatus,
    printerColumns: [
      { name: "Desired", type: "integer", jsonPath: ".spec.replicas", description: "Desired pods" },
      { name: "Current", type: "integer", jsonPath: ".status.replicas", description: "Pods that exist" },
      { name: "Up-to-date", type: "integer", jsonPath: ".status.updatedReplicas", description: "Pods of the newest version" },
      {
        name: "Available",
        type: "integer",
        jsonPath: ".status.availableReplicas",
        description: "Pods ready for minReadySeconds",
      },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Step", type: "integer", jsonPath: ".status.currentStepIndex" },
      { name: "Weight", type: "integer", jsonPath: ".status.canary.weights.canary.weight", description: "Canary traffic %" },
      age,
    ],
    scale: {
      specReplicasPath: ".spec.replicas",
      statusReplicasPath: ".status.replicas",
      labelSelectorPath: ".status.selector",
    },
  },
  {
    kind: "AnalysisTemplate",
    plural: "analysistemplates",
    singular: "analysistemplate",
    shortNames: ["rat"],
    scope: "Namespaced",
    description: "Metrics and the conditions that judge them, for Rollouts to run as AnalysisRuns.",
    object: analysisTemplate,
    spec: analysisTemplateSpec,
    printerColumns: [age],
  },
  {
    kind: "ClusterAnalysisTemplate",
    plural: "clusteranalysistemplates",
    singular: "clusteranalysistemplate",
    shortNames: ["rcat"],
    scope: "Cluster",
    description: "An AnalysisTemplate for every namespace.",
    object: clusterAnalysisTemplate,
    spec: analysisTemplateSpec,
    printerColumns: [age],
  },
  {
    kind: "AnalysisRun",
    plural: "analysisruns",
    singular: "analysisrun",
    shortNames: ["rar"],
    scope: "Namespaced",
    description: "One run of an analysis: its metrics' measurements and the verdict.",
    object: analysisRun,
    spec: analysisRunSpec,
    status: analysisRunStatus,
    printerColumns: [{ name: "Phase", type: "string", jsonPath: ".status.phase" }, age],
  },
  {
    kind: "FleetRollout",
    plural: "fleetrollouts",
    singular: "fleetrollout",
    shortNames: ["rfr"],
    scope: "Namespaced",
    description: "One release walked across member clusters in ordered waves, by the fleet coordinator in a management cluster.",
    object: fleetRollout,
    spec: fleetRolloutSpec,
    status: fleetRolloutStatus,
    printerColumns: [
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Wave", type: "integer", jsonPath: ".status.currentWave" },
      { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
      age,
    ],
  },
];

export const kindByName = (kind: string): KindDef | undefined => KINDS.find((k) => k.kind === kind);
