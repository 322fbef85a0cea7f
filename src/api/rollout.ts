// The Rollout kind: spec as users write it, status as the controller reports it.
// Field names follow Argo Rollouts where the meaning is the same.
import { z } from "zod";
import { KSTATUS_CONDITIONS } from "./conditions.ts";
import {
  boundedRecord,
  condition,
  duration,
  exactlyOne,
  intOrPercent,
  kindObject,
  labelMap,
  namedList,
  objectName,
  seconds,
} from "./schema-kit.ts";

const MAX_STEPS = 64;
const MAX_ROLLBACK_WINDOW = 100;
const MAX_LIST = 32;
// Header and mirror steps are checked against managedRoutes by a CEL rule whose cost the apiserver
// bounds by these sizes.
const MAX_ROUTES = 8;
const MAX_MATCHES = 8;
const routeName = z
  .string()
  .min(1, "must not be empty")
  .max(63)
  .describe("A managed route named in trafficRouting.managedRoutes");

const labelSelector = z
  .strictObject({
    matchLabels: labelMap("Labels a pod must carry").optional(),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string(),
          operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
          values: z.array(z.string()).max(MAX_LIST).optional(),
        }),
      )
      .max(MAX_LIST)
      .optional()
      .describe("Set-based requirements, as in a Deployment"),
  })
  .describe("Which pods belong to this Rollout; must match the template's labels");

const container = z.looseObject({
  name: z.string().min(1, "must not be empty").describe("Container name"),
  image: z.string().min(1, "must not be empty").describe("Container image"),
});

/** A PodTemplateSpec exactly as in a Deployment. Only what Ramp reads is checked here; the
 * apiserver validates the rest when the controller creates the ReplicaSet (see docs/api.md). */
export const podTemplate = z
  .looseObject({
    metadata: z
      .looseObject({
        labels: labelMap("Pod labels; must include the selector's matchLabels").optional(),
        annotations: labelMap("Pod annotations").optional(),
      })
      .optional(),
    spec: z.looseObject({
      containers: z.array(container).min(1, "needs at least one container").max(MAX_LIST),
    }),
  })
  .describe("The pods to run, exactly as a Deployment's template");

const workloadRef = z
  .strictObject({
    apiVersion: z.literal("apps/v1").default("apps/v1"),
    kind: z.literal("Deployment").default("Deployment"),
    name: objectName("The Deployment whose template this Rollout takes over"),
    scaleDown: z
      .enum(["never", "onsuccess", "progressively"])
      .default("never")
      .describe(
        "What happens to the Deployment: never scaled down, scaled to zero once the Rollout is healthy, or scaled down as the Rollout scales up",
      ),
  })
  .describe("Adopt an existing Deployment's pod template instead of carrying one");

const analysisArg = z
  .strictObject({
    name: z.string().min(1, "must not be empty").describe("Argument name, as the template declares it"),
    value: z.string().optional().describe("Literal value"),
    valueFrom: z
      .strictObject({
        podTemplateHashValue: z
          .enum(["Stable", "Latest", "Baseline"])
          .optional()
          .describe(
            "The pod-template hash of the stable or the newest ReplicaSet, or of the baseline (strategy.canary.baseline)",
          ),
        fieldRef: z
          .strictObject({ fieldPath: z.string().describe("e.g. metadata.labels['app']") })
          .optional()
          .describe("A field of this Rollout"),
      })
      .meta({
        rules: [
          exactlyOne(["podTemplateHashValue", "fieldRef"], "valueFrom needs exactly one of podTemplateHashValue or fieldRef"),
        ],
      })
      .optional(),
  })
  .meta({ rules: [{ rule: "has(self.value) != has(self.valueFrom)", message: "set exactly one of value or valueFrom" }] });

const analysisTemplateRef = z.strictObject({
  templateName: objectName("Name of an AnalysisTemplate (or ClusterAnalysisTemplate)"),
  clusterScope: z.boolean().optional().describe("Refer to a ClusterAnalysisTemplate"),
});

const rolloutAnalysis = z.strictObject({
  templates: z
    .array(analysisTemplateRef)
    .min(1, "needs at least one template")
    .max(MAX_LIST)
    .describe("Templates whose metrics are measured together in one AnalysisRun"),
  args: z.array(analysisArg).max(MAX_LIST).optional().describe("Values for the templates' arguments"),
  dryRun: z
    .array(z.strictObject({ metricName: z.string() }))
    .max(MAX_LIST)
    .optional()
    .describe("Metrics that are measured but never decide"),
});

const backgroundAnalysis = rolloutAnalysis.extend({
  startingStep: z.int().min(0).optional().describe("Step index at which background analysis starts"),
});

const stringMatch = z
  .strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: z.string().optional(),
  })
  .meta({ rules: [exactlyOne(["exact", "prefix", "regex"])] });

const headerRouteStep = z
  .strictObject({
    name: routeName,
    match: z
      .array(z.strictObject({ headerName: z.string().min(1, "must not be empty").max(253), headerValue: stringMatch }))
      .max(MAX_MATCHES)
      .optional()
      .describe("Requests with these headers go to the canary; none removes the route"),
  })
  .describe("Send matching requests to the canary whatever the weight");

const mirrorRouteStep = z
  .strictObject({
    name: routeName,
    percentage: z.int().min(0).max(100).optional().describe("Share of matching requests to copy (default 100)"),
    match: z
      .array(
        z.strictObject({
          method: stringMatch.optional(),
          path: stringMatch.optional(),
          headers: boundedRecord(stringMatch, 8, "Header name to value match").optional(),
        }),
      )
      .max(MAX_MATCHES)
      .optional()
      .describe("Which requests to copy; none removes the route"),
  })
  .describe("Copy matching requests to the canary; responses are dropped");

const canaryScale = z
  .strictObject({
    replicas: z.int().min(0).optional().describe("An absolute number of canary pods"),
    weight: z.int().min(0).max(100).optional().describe("A percentage of spec.replicas"),
    matchTrafficWeight: z.boolean().optional().describe("Scale with the traffic weight again"),
  })
  .meta({ rules: [exactlyOne(["replicas", "weight", "matchTrafficWeight"])] });

/** A call to the user's URL that must answer 2xx before the steps go on: as the first step a
 * pre-rollout hook (start a load test), as the last a confirm-promotion, with onFailure abort a
 * rollback hook. Durations have no CRD default: the apiserver refuses one on an int-or-string field. */
const gateStep = z
  .strictObject({
    name: z.string().min(1, "must not be empty").max(63).describe("Gate name, sent to the receiver and shown in the status"),
    url: z
      .string()
      .max(2048)
      .regex(/^https?:\/\/[^\s/?#][^\s]*$/, "must be an http or https URL")
      .describe("Where Ramp POSTs; any 2xx answer passes"),
    timeout: duration("How long one call may take (default 10s)", 600).optional(),
    retries: z.int().min(0).max(100).default(3).describe("Calls after the first failed one before the gate fails"),
    retryDelay: duration("Wait between a failed call and the next (default 5s)").optional(),
    onFailure: z
      .enum(["pause", "abort"])
      .default("pause")
      .describe("When every call failed: pause until promoted or aborted, or abort the rollout"),
  })
  .describe("Proceed only when a URL answers 2xx");

/** Each recheck is a new AnalysisRun (and its queries): a floor keeps a spent budget from
 * becoming a loop of runs. */
export const MIN_ERROR_BUDGET_RECHECK_SECONDS = 5;

/** Holds the steps while the service's error budget is spent (a release freeze), and goes on by
 * itself once it has recovered: the templates' AnalysisRun is measured again every recheckInterval
 * until it is Successful. It never aborts; `ramp promote` skips it. */
const errorBudgetStep = rolloutAnalysis
  .extend({
    recheckInterval: duration(
      "Wait between a spent budget and the next check (default 1m)",
      3600,
      MIN_ERROR_BUDGET_RECHECK_SECONDS,
    ).optional(),
  })
  .describe("Hold the rollout while the error budget is spent");

const STEP_KINDS = [
  "setWeight",
  "pause",
  "analysis",
  "setCanaryScale",
  "setHeaderRoute",
  "setMirrorRoute",
  "gate",
  "errorBudget",
];
const canaryStep = z
  .strictObject({
    setWeight: z.int().min(0).max(100).optional().describe("Percentage of traffic for the canary, 0 to 100"),
    pause: z
      .strictObject({ duration: duration("How long to wait; none waits for `ramp promote`").optional() })
      .optional()
      .describe("Wait a while, or until promoted"),
    analysis: rolloutAnalysis.optional().describe("Run an analysis and wait for its verdict"),
    setCanaryScale: canaryScale.optional().describe("Decouple the canary's pod count from its weight"),
    setHeaderRoute: headerRouteStep.optional(),
    setMirrorRoute: mirrorRouteStep.optional(),
    gate: gateStep.optional(),
    errorBudget: errorBudgetStep.optional(),
  })
  .meta({ rules: [exactlyOne(STEP_KINDS, `each step has exactly one action: ${STEP_KINDS.join(", ")}`)] });

const trafficRouting = z
  .strictObject({
    gatewayAPI: z
      .strictObject({
        httpRoute: objectName("The HTTPRoute whose backendRefs weights Ramp sets").optional(),
        httpRoutes: z
          .array(z.strictObject({ name: objectName("HTTPRoute name") }))
          .min(1)
          .max(MAX_LIST)
          .optional()
          .describe("Several HTTPRoutes, all set alike"),
        grpcRoutes: z
          .array(z.strictObject({ name: objectName("GRPCRoute name") }))
          .min(1)
          .max(MAX_LIST)
          .optional()
          .describe("GRPCRoutes, set like the HTTPRoutes (mirror routes match headers only there)"),
        namespace: z
          .string()
          .max(63, "must be at most 63 characters")
          .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a namespace name (a DNS label: a-z, 0-9, '-')")
          .optional()
          .describe("Namespace of the routes (default: the Rollout's; another one needs a ReferenceGrant there)"),
      })
      .meta({
        rules: [
          { rule: "!(has(self.httpRoute) && has(self.httpRoutes))", message: "set at most one of httpRoute or httpRoutes" },
          {
            rule: "has(self.httpRoute) || has(self.httpRoutes) || has(self.grpcRoutes)",
            message: "name the routes: httpRoute, httpRoutes or grpcRoutes",
          },
        ],
      })
      .optional()
      .describe("Gateway API HTTPRoutes and GRPCRoutes (gateway.networking.k8s.io/v1)"),
    istio: z
      .strictObject({
        virtualService: z
          .strictObject({
            name: objectName("VirtualService name"),
            routes: z.array(z.string()).max(MAX_LIST).optional().describe("Named http routes to weight (default: the only one)"),
          })
          .describe("The VirtualService whose route weights Ramp sets"),
        destinationRule: z
          .strictObject({
            name: objectName("DestinationRule name"),
            stableSubsetName: z.string().min(1, "must not be empty"),
            canarySubsetName: z.string().min(1, "must not be empty"),
          })
          .optional()
          .describe("Subset mode: one Service, subsets labelled with the pod-template hash"),
      })
      .optional()
      .describe("Istio VirtualService, in host mode (two Services) or subset mode (a DestinationRule)"),
    nginx: z
      .strictObject({
        stableIngress: objectName("The user's Ingress; Ramp never changes it").optional(),
        stableIngresses: z.array(objectName("Ingress name")).min(1).max(MAX_LIST).optional().describe("Several stable Ingresses"),
        annotationPrefix: z.string().default("nginx.ingress.kubernetes.io").describe("Prefix of the canary annotations"),
        additionalIngressAnnotations: labelMap("Extra annotations for the generated canary Ingress").optional(),
      })
      .meta({
        rules: [
          {
            rule: "has(self.stableIngress) != has(self.stableIngresses)",
            message: "set exactly one of stableIngress or stableIngresses",
          },
        ],
      })
      .optional()
      .describe("NGINX Ingress canary annotations on a generated Ingress"),
    smi: z
      .strictObject({
        trafficSplitName: objectName("TrafficSplit name (default: the Rollout's name)").optional(),
        rootService: objectName("The Service clients call"),
      })
      .optional()
      .describe("SMI TrafficSplit"),
    managedRoutes: namedList(z.strictObject({ name: routeName }), MAX_ROUTES, "managed route")
      .optional()
      .describe("Routes Ramp may add for header and mirror steps, highest precedence first"),
  })
  .meta({
    rules: [
      {
        rule: "[has(self.gatewayAPI), has(self.istio), has(self.nginx), has(self.smi)].filter(x, x).size() == 1",
        message: "set exactly one router: gatewayAPI, istio, nginx or smi",
      },
    ],
  });

/** CEL: the analysis at `path` passes no podTemplateHashValue Baseline (true when it has no args). */
const noBaselineArg = (path: string) =>
  `(!has(${path}.args) || ${path}.args.all(a, !has(a.valueFrom) || !has(a.valueFrom.podTemplateHashValue) || a.valueFrom.podTemplateHashValue != 'Baseline'))`;
const BASELINE_ARG_MESSAGE = "podTemplateHashValue Baseline needs strategy.canary.baseline.enabled";

const canaryStrategy = z
  .strictObject({
    stableService: objectName("Service that Ramp points at the stable pods").optional(),
    canaryService: objectName("Service that Ramp points at the canary pods").optional(),
    // No CRD default: the apiserver refuses a default on an int-or-string field; the controller uses 25%.
    maxSurge: intOrPercent("Pods above the desired count during an update (default 25%)").optional(),
    maxUnavailable: intOrPercent("Pods below the desired count during an update (default 25%)").optional(),
    scaleDownDelaySeconds: seconds(
      "Seconds the old stable pods stay after promotion when a router or the stable Service switches traffic (else they go at once)",
    ).default(30),
    abortScaleDownDelaySeconds: seconds("Seconds the canary pods stay after an abort").default(30),
    dynamicStableScale: z.boolean().default(false).describe("Scale stable down as canary weight grows"),
    trafficRouting: trafficRouting.optional().describe("How weights reach traffic; none = approximated by replica counts"),
    analysis: backgroundAnalysis.optional().describe("Background analysis for the whole rollout"),
    baseline: z
      .strictObject({
        enabled: z.boolean().describe("Run a baseline beside the canary"),
      })
      .optional()
      .describe(
        "A fresh baseline: pods of the stable template, as many as the canary's and started with them, for the judge to compare the canary with (podTemplateHashValue Baseline); removed when the steps end",
      ),
    steps: z.array(canaryStep).max(MAX_STEPS).optional().describe("The steps; none = go straight to 100%"),
  })
  .meta({
    rules: [
      {
        rule: "!has(self.stableService) || !has(self.canaryService) || self.stableService != self.canaryService",
        message: "stableService and canaryService must differ",
        fieldPath: ".canaryService",
      },
      {
        rule: "!has(self.trafficRouting) || has(self.trafficRouting.istio) && has(self.trafficRouting.istio.destinationRule) || has(self.stableService) && has(self.canaryService)",
        message: "trafficRouting needs stableService and canaryService (Istio subset mode excepted)",
        fieldPath: ".trafficRouting",
      },
      {
        rule: "!(has(self.maxSurge) && (self.maxSurge == 0 || self.maxSurge == '0%')) || !(has(self.maxUnavailable) && (self.maxUnavailable == 0 || self.maxUnavailable == '0%'))",
        message: "maxSurge and maxUnavailable cannot both be zero",
        fieldPath: ".maxUnavailable",
      },
      {
        rule: "!has(self.steps) || self.steps.all(s, (!has(s.setHeaderRoute) && !has(s.setMirrorRoute)) || has(self.trafficRouting) && has(self.trafficRouting.managedRoutes) && self.trafficRouting.managedRoutes.exists(r, r.name == (has(s.setHeaderRoute) ? s.setHeaderRoute.name : s.setMirrorRoute.name)))",
        message: "setHeaderRoute and setMirrorRoute need a router and a matching name in trafficRouting.managedRoutes",
        fieldPath: ".steps",
      },
      {
        rule: `has(self.baseline) && self.baseline.enabled || (!has(self.analysis) || ${noBaselineArg("self.analysis")}) && (!has(self.steps) || self.steps.all(s, !has(s.analysis) || ${noBaselineArg("s.analysis")}))`,
        message: BASELINE_ARG_MESSAGE,
        fieldPath: ".baseline",
      },
      {
        rule: "!has(self.baseline) || !self.baseline.enabled || !has(self.trafficRouting)",
        message: "baseline needs replica-count routing (no trafficRouting): a router sends the baseline pods no traffic",
        fieldPath: ".baseline",
      },
      {
        rule: "!has(self.analysis) || !has(self.analysis.startingStep) || has(self.steps) && self.analysis.startingStep <= size(self.steps)",
        message: "analysis.startingStep is past the last step",
        fieldPath: ".analysis",
      },
    ],
  });

const blueGreenStrategy = z
  .strictObject({
    activeService: objectName("Service that serves production traffic"),
    previewService: objectName("Service that points at the new version before promotion").optional(),
    previewReplicaCount: z.int().min(0).optional().describe("Pods of the new version before promotion (default: all)"),
    autoPromotionEnabled: z.boolean().default(true).describe("Promote without `ramp promote` once ready"),
    autoPromotionSeconds: seconds("Wait this long after ready before auto-promotion").optional(),
    prePromotionAnalysis: rolloutAnalysis.optional().describe("Must succeed before the active Service switches"),
    prePromotionGate: gateStep.optional().describe("Must answer 2xx before the active Service switches (confirm-promotion)"),
    postPromotionAnalysis: rolloutAnalysis.optional().describe("Runs after the switch; failure switches back"),
    scaleDownDelaySeconds: seconds("Seconds the old pods stay after the switch").default(30),
    abortScaleDownDelaySeconds: seconds("Seconds the preview pods stay after an abort").default(30),
  })
  .meta({
    rules: [
      {
        rule: `(!has(self.prePromotionAnalysis) || ${noBaselineArg("self.prePromotionAnalysis")}) && (!has(self.postPromotionAnalysis) || ${noBaselineArg("self.postPromotionAnalysis")})`,
        message: BASELINE_ARG_MESSAGE,
      },
      {
        rule: "!has(self.previewService) || self.activeService != self.previewService",
        message: "activeService and previewService must differ",
        fieldPath: ".previewService",
      },
    ],
  });

const strategy = z
  .strictObject({
    canary: canaryStrategy.optional().describe("Shift traffic to the new version in steps"),
    blueGreen: blueGreenStrategy.optional().describe("Run the new version beside the old and switch at once"),
  })
  .meta({ rules: [{ rule: "has(self.canary) != has(self.blueGreen)", message: "set exactly one of canary or blueGreen" }] });

export const rolloutSpec = z
  .strictObject({
    replicas: z.int().min(0).default(1).describe("Desired pods"),
    selector: labelSelector,
    template: podTemplate.optional(),
    workloadRef: workloadRef.optional(),
    minReadySeconds: seconds("Seconds a pod must be ready to count as available").default(0),
    revisionHistoryLimit: z.int().min(0).default(10).describe("Old ReplicaSets kept for undo"),
    rollbackWindow: z
      .strictObject({
        revisions: z
          .int()
          .min(0)
          .max(MAX_ROLLBACK_WINDOW)
          .describe("Going back to one of this many revisions before the stable one skips the steps and analysis"),
      })
      .optional()
      .describe("Fast rollback: a return to a recent revision goes straight to 100%"),
    progressDeadlineSeconds: seconds("Seconds without progress before the rollout is Degraded", 1).default(600),
    progressDeadlineAbort: z.boolean().default(false).describe("Abort when the progress deadline passes"),
    paused: z.boolean().default(false).describe("Stop progressing until unpaused"),
    restartAt: z.iso.datetime({ offset: true }).nullable().optional().describe("Pods older than this (RFC 3339) are replaced"),
    strategy,
  })
  .meta({
    rules: [
      { rule: "has(self.template) != has(self.workloadRef)", message: "set exactly one of template or workloadRef" },
      {
        rule: "!has(self.template) || !has(self.selector.matchLabels) || self.selector.matchLabels.all(k, has(self.template.metadata) && has(self.template.metadata.labels) && k in self.template.metadata.labels && self.template.metadata.labels[k] == self.selector.matchLabels[k])",
        message: "selector.matchLabels must match template.metadata.labels",
        fieldPath: ".selector",
      },
      {
        rule: "self.progressDeadlineSeconds > self.minReadySeconds",
        message: "progressDeadlineSeconds must be greater than minReadySeconds",
        fieldPath: ".progressDeadlineSeconds",
      },
    ],
  });

const PHASES = ["Progressing", "Paused", "Healthy", "Degraded"] as const;
const analysisRunRef = z.strictObject({
  name: z.string(),
  phase: z.enum(["Pending", "Running", "Successful", "Failed", "Inconclusive", "Error"]).optional(),
  message: z.string().optional(),
});
const gateState = z.strictObject({
  name: z.string(),
  stepIndex: z.int().min(0).describe("The gate's step (0 for blue-green)"),
  attempts: z.int().min(0).describe("Calls made so far"),
  phase: z
    .enum(["Pending", "Passed", "Failed", "Error"])
    .describe("Pending while a call is under way; Error when the call could not be made (code says why), never retried"),
  code: z.string().optional().describe("Why the gate is in Error, from the catalogue (e.g. DESTINATION_NOT_ALLOWED)"),
  message: z.string().optional().describe("The last call's outcome"),
  lastAttemptAt: z.string().optional().describe("When the last call started (RFC 3339)"),
});
const errorBudgetState = z.strictObject({
  stepIndex: z.int().min(0).describe("The errorBudget step"),
  checks: z.int().min(0).describe("AnalysisRuns created for it so far"),
  spentSince: z.string().optional().describe("When the budget was first found spent (RFC 3339); absent once it is available"),
  recheckAt: z.string().optional().describe("When the next check starts (RFC 3339)"),
  code: z.string().optional().describe("ERROR_BUDGET_SPENT while the rollout holds"),
  message: z.string().optional().describe("The last check's outcome"),
});
const refusedTemplate = z.strictObject({
  podTemplateHash: z.string().describe("The revision whose pod template the apiserver refused"),
  replicaSet: z.string().describe("The ReplicaSet it refused to create from that template"),
  message: z.string().describe("The problem, as the InvalidSpec condition reports it (with the apiserver's answer)"),
});
const weightDestination = z.strictObject({
  weight: z.int().min(0).max(100),
  podTemplateHash: z.string().optional(),
  serviceName: z.string().optional(),
});

export const rolloutStatus = z.strictObject({
  phase: z.enum(PHASES).optional().describe("Progressing, Paused, Healthy or Degraded"),
  message: z.string().optional().describe("What is happening, for people"),
  observedGeneration: z.int().optional(),
  currentPodHash: z.string().optional().describe("Pod-template hash of the newest ReplicaSet"),
  stableRS: z.string().optional().describe("Pod-template hash of the stable ReplicaSet"),
  currentStepIndex: z.int().min(0).optional(),
  currentStepHash: z.string().optional().describe("Hash of the steps, to restart them when they change"),
  pauseConditions: z
    .array(z.strictObject({ reason: z.string(), startTime: z.string() }))
    .optional()
    .describe("Why the rollout is paused"),
  controllerPause: z.boolean().optional(),
  abort: z.boolean().optional().describe("Set by `ramp abort` or the controller; cleared by the controller on a retry"),
  abortedAt: z.string().optional().describe("When the controller took up the abort (RFC 3339)"),
  retry: z
    .boolean()
    .optional()
    .describe("Set by `ramp retry` on an aborted rollout; the controller clears it, with abort, as it starts the revision again"),
  promoteFull: z
    .boolean()
    .optional()
    .describe("Set by `ramp promote --full`, or by a rollback within rollbackWindow: no more steps or analysis"),
  restartedAt: z.string().optional(),
  canary: z
    .strictObject({
      weights: z
        .strictObject({ canary: weightDestination, stable: weightDestination, verified: z.boolean().optional() })
        .optional()
        .describe("What the router was last told, and whether it was verified"),
      currentStepAnalysisRun: analysisRunRef.optional(),
      currentBackgroundAnalysisRun: analysisRunRef.optional(),
      currentGate: gateState.optional().describe("The gate step the steps are at, or last passed"),
      errorBudget: errorBudgetState.optional().describe("The errorBudget step the steps are at, or last passed"),
    })
    .optional(),
  blueGreen: z
    .strictObject({
      activeSelector: z.string().optional(),
      previewSelector: z.string().optional(),
      scaleUpPreviewCheckPoint: z.boolean().optional(),
      prePromotionAnalysisRun: analysisRunRef.optional(),
      postPromotionAnalysisRun: analysisRunRef.optional(),
      currentGate: gateState.optional().describe("The pre-promotion gate of this revision"),
    })
    .optional(),
  replicas: z.int().optional(),
  updatedReplicas: z.int().optional(),
  readyReplicas: z.int().optional(),
  availableReplicas: z.int().optional(),
  selector: z.string().optional().describe("Label selector as a string, for the scale subresource"),
  refusedTemplate: refusedTemplate
    .optional()
    .describe(
      "Set with InvalidSpec when the apiserver refused to create this revision's ReplicaSet; held until the spec changes",
    ),
  conditions: z
    .array(condition(["Progressing", "Available", "Paused", "Healthy", "InvalidSpec", "ReplicaFailure", ...KSTATUS_CONDITIONS]))
    .optional()
    .describe("Argo Rollouts' conditions, and kstatus' Ready, Reconciling and Stalled for GitOps tools"),
});

export const rollout = kindObject("Rollout", rolloutSpec, rolloutStatus);

export type Rollout = z.infer<typeof rollout>;
export type RolloutSpec = z.infer<typeof rolloutSpec>;
export type RolloutStatus = z.infer<typeof rolloutStatus>;
export type CanaryStep = z.infer<typeof canaryStep>;
export type GateStep = z.infer<typeof gateStep>;
export type GateState = z.infer<typeof gateState>;
export type ErrorBudgetStep = z.infer<typeof errorBudgetStep>;
export type ErrorBudgetState = z.infer<typeof errorBudgetState>;
export type RefusedTemplate = z.infer<typeof refusedTemplate>;
