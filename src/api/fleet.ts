// The FleetRollout kind: one release walked across member clusters in ordered waves, served by the
// fleet coordinator in a management cluster. Each member runs its own Ramp, which does the canary;
// the coordinator only sets the member Rollout's template and reads its status.
import { z } from "zod";
import { podTemplate } from "./rollout.ts";
import { duration, exactlyOne, kindObject, labelMap, namedList, objectName } from "./schema-kit.ts";

export const MAX_WAVES = 16;
/** Clusters one wave may name, and members a fleet may span. */
export const MAX_CLUSTERS = 64;
const MAX_TEMPLATES = 8;

const clusterName = z
  .string()
  .min(1, "must not be empty")
  .max(63, "must be at most 63 characters")
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (a-z, 0-9, '-')")
  .describe("A member cluster's name (its ClusterProfile's, or the value of its Secret's ramp.dev/fleet-member label)");

const waveAnalysis = z
  .strictObject({
    templates: z
      .array(z.strictObject({ templateName: objectName("An AnalysisTemplate in the FleetRollout's namespace") }))
      .min(1, "needs at least one template")
      .max(MAX_TEMPLATES),
    args: z
      .array(z.strictObject({ name: z.string().min(1).max(253), value: z.string().max(1024) }))
      .max(32)
      .optional()
      .describe("Values for the templates' arguments"),
  })
  .describe(
    "Run in the management cluster (against the fleet's Prometheus) after the wave's soak; it must succeed before the next wave starts",
  );

const wave = z
  .strictObject({
    name: clusterName.describe("The wave's name, for status and events"),
    clusters: z.array(clusterName).max(MAX_CLUSTERS).optional().describe("Member clusters by name"),
    selector: z
      .strictObject({ matchLabels: labelMap("Labels a member must carry") })
      .optional()
      .describe("Member clusters by label (the ClusterProfile's or the kubeconfig Secret's labels)"),
    maxConcurrent: z.int().min(1).max(MAX_CLUSTERS).optional().describe("Clusters of the wave updated at once (default: all)"),
    soak: duration("How long every cluster of the wave must stay Healthy before the wave counts as done").optional(),
    analysis: waveAnalysis.optional(),
  })
  .meta({ rules: [exactlyOne(["clusters", "selector"])] });

export const fleetRolloutSpec = z
  .strictObject({
    rolloutRef: z
      .strictObject({
        namespace: objectName("The Rollout's namespace in every member"),
        name: objectName("The Rollout's name in every member"),
      })
      .describe("The Rollout to release, the same in every member cluster"),
    template: podTemplate.optional().describe("The new pod template, set as the member Rollouts' spec.template"),
    image: z
      .strictObject({
        container: z.string().min(1).max(63).optional().describe("The container to change (default: the first)"),
        image: z.string().min(1, "must not be empty").max(512),
      })
      .optional()
      .describe("Or only a new image, set in each member Rollout's own template"),
    waves: namedList(wave, MAX_WAVES, "wave").refine((w) => w.length > 0, "needs at least one wave"),
    onFailure: z
      .enum(["pause", "rollback"])
      .default("pause")
      .describe(
        "When a member is Degraded or a wave's analysis fails: stop (pause), or also return the updated clusters to their previous template, last wave first (rollback)",
      ),
  })
  .meta({ rules: [exactlyOne(["template", "image"])] });

export const FLEET_PHASES = ["Progressing", "Healthy", "Degraded", "RollingBack", "RolledBack"] as const;
export const WAVE_PHASES = [
  "Pending",
  "Progressing",
  "Soaking",
  "Analyzing",
  "Healthy",
  "Degraded",
  "Skipped",
  "RolledBack",
] as const;
export const CLUSTER_PHASES = ["Pending", "Progressing", "Healthy", "Degraded", "Skipped", "RolledBack"] as const;

const clusterStatus = z.strictObject({
  name: z.string(),
  phase: z.enum(CLUSTER_PHASES),
  reachable: z.boolean().optional().describe("False while the member's apiserver cannot be reached (the wave holds)"),
  code: z
    .string()
    .max(64)
    .optional()
    .describe("Why the member cannot be used, from the catalogue in docs/security.md (MEMBER_UNREACHABLE, MEMBER_FORBIDDEN ...)"),
  message: z.string().optional(),
  updatedAt: z.string().optional().describe("When the coordinator set the member Rollout's template (RFC 3339)"),
});

const waveStatus = z.strictObject({
  name: z.string(),
  phase: z.enum(WAVE_PHASES),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  healthyAt: z.string().optional().describe("Since when every cluster of the wave has been Healthy (the soak's start)"),
  analysisRun: z.strictObject({ name: z.string(), phase: z.string().optional() }).optional(),
  clusters: z.array(clusterStatus).max(MAX_CLUSTERS),
});

export const fleetRolloutStatus = z.strictObject({
  phase: z.enum(FLEET_PHASES).optional(),
  message: z.string().optional().describe("What is happening, for people"),
  observedGeneration: z.int().optional(),
  revision: z.string().optional().describe("Hash of what is released; a new one starts the waves again"),
  currentWave: z.int().min(0).optional().describe("The wave under way (or the last one)"),
  promote: z.boolean().optional().describe("Set by `ramp fleet promote`: the current wave's soak and analysis are skipped"),
  abort: z.boolean().optional().describe("Set by `ramp fleet abort`: handled as a failure (onFailure applies)"),
  stopReason: z.string().optional().describe("Why no further wave starts"),
  waves: z.array(waveStatus).max(MAX_WAVES).optional(),
});

export const fleetRollout = kindObject("FleetRollout", fleetRolloutSpec, fleetRolloutStatus);

export type FleetRollout = z.infer<typeof fleetRollout>;
export type FleetRolloutSpec = z.infer<typeof fleetRolloutSpec>;
export type FleetRolloutStatus = z.infer<typeof fleetRolloutStatus>;
export type WaveStatus = z.infer<typeof waveStatus>;
export type ClusterStatus = z.infer<typeof clusterStatus>;
export type FleetPhase = (typeof FLEET_PHASES)[number];
