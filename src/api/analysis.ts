// AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun: metrics measured against a provider,
// judged by CEL conditions and limits.
import { z } from "zod";
import { type CelRule, duration, exactlyOne, intOrPercent, kindObject, labelMap, namedList, objectName } from "./schema-kit.ts";

const MAX_LIST = 32;

const secretKeyRef = z
  .strictObject({ name: objectName("Secret name"), key: z.string().min(1, "must not be empty") })
  .describe("A key of a Secret in the template's (or run's) namespace");

const templateArg = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, "must be a word (letters, digits, _ and -)")
      .describe("Used as {{args.NAME}}"),
    value: z.string().optional().describe("Default value; none makes the argument required"),
    valueFrom: z
      .strictObject({
        secretKeyRef: secretKeyRef.optional(),
        fieldRef: z.strictObject({ fieldPath: z.string() }).optional().describe("A field of the Rollout"),
        podTemplateHashValue: z.enum(["Stable", "Latest"]).optional(),
      })
      .meta({
        rules: [
          exactlyOne(
            ["secretKeyRef", "fieldRef", "podTemplateHashValue"],
            "valueFrom needs exactly one of secretKeyRef, fieldRef or podTemplateHashValue",
          ),
        ],
      })
      .optional(),
  })
  .meta({ rules: [{ rule: "!(has(self.value) && has(self.valueFrom))", message: "set at most one of value or valueFrom" }] });

const prometheusAddress = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .optional()
  .describe("Prometheus base URL (default: the controller's --prometheus-url / RAMP_PROMETHEUS_URL)");

const prometheusProvider = z.strictObject({
  address: prometheusAddress,
  query: z.string().min(1, "must not be empty").describe("PromQL; {{args.NAME}} is substituted, escaped inside string literals"),
  timeout: duration("Give up on the query after this long (default 10s)", 600).optional(),
  headers: z
    .array(z.strictObject({ key: z.string().min(1, "must not be empty"), value: z.string() }))
    .max(MAX_LIST)
    .optional()
    .describe("Extra HTTP headers; values may use {{args.NAME}}, e.g. from a secret argument"),
  auth: z
    .strictObject({
      bearerToken: z.strictObject({ secretKeyRef }).optional(),
      basic: z.strictObject({ username: z.string(), passwordSecretRef: secretKeyRef }).optional(),
    })
    .meta({ rules: [exactlyOne(["bearerToken", "basic"])] })
    .optional()
    .describe("Credentials from Secrets; never logged"),
  range: z
    .strictObject({
      window: duration("How far back the range reaches from the measurement time"),
      step: duration("Resolution of the range"),
    })
    .optional()
    .describe("Run a range query instead of an instant one; result is the list of values"),
});

const sloProvider = z
  .strictObject({
    prometheus: z.strictObject({ address: prometheusAddress }).optional(),
    source: z.enum(["istio", "nginx", "http"]).describe("Which metric family to read: istio, nginx or http"),
    service: z.string().min(1, "must not be empty").describe("The canary's Service (or, for nginx, its backend Service)"),
    namespace: z.string().min(1, "must not be empty").describe("Namespace of the service"),
    ingress: z.string().optional().describe("For nginx: the canary Ingress"),
    podTemplateHash: z.string().optional().describe("For http: only series of this ReplicaSet"),
    window: duration("Rate window (default 1m)").optional(),
    errorRate: z.strictObject({ max: z.number().min(0).max(1).describe("Highest acceptable share of 5xx, 0 to 1") }).optional(),
    latency: z
      .strictObject({
        quantile: z.number().gt(0).lt(1).describe("e.g. 0.99 for p99"),
        max: duration("Highest acceptable latency at that quantile, e.g. 500ms"),
      })
      .optional(),
    minRequests: z.int().min(0).default(50).describe("Fewer requests in the window is no data, not a verdict"),
  })
  .meta({ rules: [{ rule: "has(self.errorRate) || has(self.latency)", message: "set errorRate, latency or both" }] });

const judgeProvider = z
  .strictObject({
    prometheus: z.strictObject({ address: prometheusAddress }).optional(),
    canary: z.string().optional().describe("Range query of the canary's latency-like series"),
    baseline: z.string().optional().describe("The same query for the stable version"),
    counts: z
      .strictObject({
        canaryErrors: z.string(),
        canaryTotal: z.string(),
        baselineErrors: z.string(),
        baselineTotal: z.string(),
      })
      .optional()
      .describe("Instant queries of error and request counts over the window, compared as proportions"),
    window: duration("How far back to compare"),
    step: duration("Resolution of the range queries (default 15s)").optional(),
    direction: z.enum(["increase", "decrease", "either"]).default("increase").describe("Which change is bad"),
    tolerance: intOrPercent("Relative change accepted before it counts as worse (default 10%)").optional(),
    confidence: z.number().min(0.5).lt(1).default(0.95).describe("Confidence needed to call it worse"),
    minRequests: z.int().min(0).default(50).describe("For counts: fewer canary requests is no data"),
  })
  .meta({
    rules: [
      {
        rule: "(has(self.canary) && has(self.baseline) && !has(self.counts)) || (!has(self.canary) && !has(self.baseline) && has(self.counts))",
        message: "set canary and baseline queries, or counts, not both",
      },
    ],
  });

// --- burnRate provider (issue 17) ---
const MAX_BURN_WINDOWS = 4;
/** Longest window a burnRate metric asks Prometheus about, written or scaled (a week). */
export const MAX_BURN_WINDOW_SECONDS = 7 * 24 * 3600;
/** The traffic sources of the slo shorthand, for providers that read the same metric families. */
const sloTraffic = sloProvider.shape;
const burnRateProvider = z
  .strictObject({
    prometheus: z.strictObject({ address: prometheusAddress }).optional(),
    objective: z.number().gt(0).lt(1).describe("The SLO: share of requests that must succeed, e.g. 0.999"),
    traffic: z
      .strictObject({
        source: sloTraffic.source,
        service: sloTraffic.service,
        namespace: sloTraffic.namespace,
        ingress: sloTraffic.ingress,
        podTemplateHash: sloTraffic.podTemplateHash,
      })
      .optional()
      .describe("Read the slo shorthand's metric families (istio, nginx, http): errors are 5xx answers"),
    queries: z
      .strictObject({
        good: z
          .string()
          .min(1, "must not be empty")
          .max(4096)
          .describe("PromQL: good requests in the window, {{window}} its length"),
        total: z
          .string()
          .min(1, "must not be empty")
          .max(4096)
          .describe("PromQL: all requests in the window, {{window}} its length"),
      })
      .optional()
      .describe('Your own counts, e.g. sum(increase(http_requests_total{code!~"5.."}[{{window}}]))'),
    windows: z
      .array(
        z.strictObject({
          long: duration("The long window: is the burn significant", MAX_BURN_WINDOW_SECONDS),
          short: duration("The short window: is it still burning", MAX_BURN_WINDOW_SECONDS),
          factor: z.number().gt(0).max(10_000).describe("Burn rate above which the pair fires, e.g. 14.4"),
        }),
      )
      .min(1, "needs at least one window pair")
      .max(MAX_BURN_WINDOWS)
      .optional()
      .describe("Window pairs; default the SRE workbook's 14.4x and 6x scaled to the metric's interval (docs/analysis.md)"),
    budget: z
      .strictObject({
        window: duration("How far back the budget is counted, e.g. 1h", MAX_BURN_WINDOW_SECONDS),
        minRemaining: z.number().min(0).lt(1).default(0).describe("Share of the window's budget that must be left (0: any)"),
      })
      .optional()
      .describe("Judge the budget left over one window instead of burn-rate pairs (the errorBudget step's check)"),
    minRequests: z.int().min(0).default(50).describe("A window with fewer requests is no data"),
  })
  .meta({
    rules: [
      exactlyOne(["traffic", "queries"], "set exactly one of traffic or queries"),
      { rule: "!(has(self.windows) && has(self.budget))", message: "set windows or budget, not both" },
    ],
  });
// --- end burnRate ---
// --- web and job providers (issue 17) ---

/** The JSONPath subset src/analysis/providers/web/json-path.ts reads: $ then .name, ['name'],
 * [N], [*] or .*, optionally in Kubernetes-style braces. Written as one pattern so the CRD and
 * `ramp lint` refuse anything else (filters and scripts above all) with the field named. */
const JSON_PATH_STEPS = String.raw`\$(\.\*|\.[A-Za-z0-9_-]+|\[\*\]|\[-?[0-9]{1,9}\]|\['([^'\\]|\\.)*'\]|\["([^"\\]|\\.)*"\])*`;
export const JSON_PATH_PATTERN = new RegExp(String.raw`^(\{\s*${JSON_PATH_STEPS}\s*\}|${JSON_PATH_STEPS})$`);
/** Longest web request body a metric may carry. */
export const MAX_WEB_BODY = 65_536;

const webHeader = z
  .strictObject({
    key: z
      .string()
      .min(1, "must not be empty")
      .max(256)
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name"),
    value: z.string().max(4096).optional().describe("May use {{args.NAME}}"),
    valueFrom: z
      .strictObject({ secretKeyRef })
      .optional()
      .describe("From a Secret labelled ramp.dev/secret-access=analysis; never logged"),
  })
  .meta({ rules: [exactlyOne(["value", "valueFrom"], "set exactly one of value or valueFrom")] });

const webProvider = z.strictObject({
  url: z
    .string()
    .min(1, "must not be empty")
    .max(2048)
    .describe("http(s) URL; {{args.NAME}} is substituted, and the outbound policy checks the result"),
  method: z.enum(["GET", "POST", "PUT"]).default("GET").describe("HTTP method (default GET)"),
  headers: z.array(webHeader).max(MAX_LIST).optional().describe("Extra HTTP headers, from values or opted-in Secrets"),
  body: z.string().max(MAX_WEB_BODY).optional().describe("Request body for POST or PUT; {{args.NAME}} is substituted"),
  timeout: duration("Give up on the request after this long (default 10s)", 120).optional(),
  jsonPath: z
    .string()
    .max(256)
    .regex(JSON_PATH_PATTERN, "must be a JSONPath like {$.data.ok} or $.items[0].value: $ then .name, ['name'], [N], [*]")
    .optional()
    .describe("Picks the result from the JSON answer (default $, the whole answer); no filters or scripts"),
});

/** Most pods a job metric's Job may ask for at once, and in all. */
export const MAX_JOB_PODS = 10;

/** A pod field that is refused when true (declared so the CRD's rule can see it). */
const refusedWhenTrue = (field: string, why: string): CelRule => ({
  rule: `!has(self.${field}) || !self.${field}`,
  message: `${field} is not allowed: ${why}`,
  fieldPath: `.${field}`,
});

// A job metric's pod is created with the controller's rights, not the tenant's, so what would
// widen a tenant's reach is refused by name (docs/security.md): the node's namespaces and files,
// privileged or escalating containers, added capabilities, and any ServiceAccount but the
// namespace's default. The rest of the pod spec is kept as written (Pod Security Admission still applies).
const NODE_ACCESS = "the Job's pod is created with the controller's rights, not yours";

const jobContainer = z
  .looseObject({
    name: z.string().min(1, "must not be empty"),
    image: z.string().min(1, "must not be empty"),
    securityContext: z
      .looseObject({
        privileged: z.boolean().optional().describe("Refused when true"),
        allowPrivilegeEscalation: z.boolean().optional().describe("Refused when true"),
        capabilities: z
          .looseObject({
            add: z.array(z.string().max(64)).max(0, `adding capabilities is not allowed: ${NODE_ACCESS}`).optional(),
          })
          .optional(),
      })
      .meta({
        rules: [refusedWhenTrue("privileged", NODE_ACCESS), refusedWhenTrue("allowPrivilegeEscalation", NODE_ACCESS)],
      })
      .optional(),
  })
  .describe("A container; privileged, allowPrivilegeEscalation and capabilities.add are refused");

const jobPodSpec = z
  .looseObject({
    containers: z.array(jobContainer).min(1, "needs at least one container").max(MAX_LIST),
    initContainers: z.array(jobContainer).max(MAX_LIST).optional(),
    hostNetwork: z.boolean().optional().describe("Refused when true"),
    hostPID: z.boolean().optional().describe("Refused when true"),
    hostIPC: z.boolean().optional().describe("Refused when true"),
    serviceAccountName: z.string().max(253).optional().describe("Only default: the namespace's default ServiceAccount"),
    serviceAccount: z.string().max(253).optional().describe("Only default (the deprecated spelling of serviceAccountName)"),
    volumes: z
      .array(
        z
          .looseObject({
            name: z.string().min(1, "must not be empty"),
            hostPath: z.looseObject({}).optional().describe("Refused"),
          })
          .meta({
            rules: [
              {
                rule: "!has(self.hostPath)",
                message: `hostPath volumes are not allowed: ${NODE_ACCESS}`,
                fieldPath: ".hostPath",
              },
            ],
          }),
      )
      .max(MAX_LIST)
      .optional(),
  })
  .meta({
    rules: [
      refusedWhenTrue("hostNetwork", NODE_ACCESS),
      refusedWhenTrue("hostPID", NODE_ACCESS),
      refusedWhenTrue("hostIPC", NODE_ACCESS),
      ...["serviceAccountName", "serviceAccount"].map((field) => ({
        rule: `!has(self.${field}) || self.${field} == 'default'`,
        message: `${field} may only be default: ${NODE_ACCESS}, and another ServiceAccount's token would be yours through it`,
        fieldPath: `.${field}`,
      })),
    ],
  })
  .describe("The Job's pod spec: the node's namespaces and files, privileged containers and other ServiceAccounts are refused");

const jobProvider = z.strictObject({
  metadata: z
    .strictObject({
      labels: labelMap("Labels of the Job").optional(),
      annotations: labelMap("Annotations of the Job").optional(),
    })
    .optional(),
  spec: z
    .looseObject({
      backoffLimit: z.int().min(0).max(10).optional().describe("Retries before the Job fails (default 0 here, not 6)"),
      activeDeadlineSeconds: z.int().min(1).optional().describe("Capped at the metric's timeout"),
      // Pods the controller makes for a tenant: a handful, not thousands.
      parallelism: z.int().min(0).max(MAX_JOB_PODS).optional().describe(`Pods at once, at most ${MAX_JOB_PODS}`),
      completions: z.int().min(1).max(MAX_JOB_PODS).optional().describe(`Pods that must succeed, at most ${MAX_JOB_PODS}`),
      // Declared so the rule below can see them (the rest of the spec is preserved as it is).
      selector: z.looseObject({}).optional().describe("Refused"),
      manualSelector: z.boolean().optional().describe("Refused"),
      template: z.looseObject({
        metadata: z
          .looseObject({ labels: labelMap("Pod labels").optional(), annotations: labelMap("Pod annotations").optional() })
          .optional(),
        spec: jobPodSpec,
      }),
    })
    .meta({
      rules: [
        {
          rule: "!has(self.selector) && !has(self.manualSelector)",
          message: "selector and manualSelector are not allowed: a hand-written selector could adopt other pods",
        },
      ],
    })
    .describe("A Job spec, as in a batch/v1 Job; created in the run's namespace, owned by the run"),
  timeout: duration("The Job must finish within this long: its activeDeadlineSeconds (default 10m)", 3600).optional(),
});

// --- end web and job providers ---

/** Longest successCondition/failureCondition accepted. */
export const MAX_CONDITION_LENGTH = 2048;

const PROVIDERS = ["prometheus", "slo", "judge", "burnRate", "web", "job"];
const metric = z
  .strictObject({
    name: z.string().min(1, "must not be empty").max(63).describe("Unique within the template"),
    interval: duration("Time between measurements").optional(),
    initialDelay: duration("Wait before the first measurement").optional(),
    count: z.int().min(0).optional().describe("Measurements to take (default 1 without interval, unbounded with)"),
    successCondition: z
      .string()
      .max(MAX_CONDITION_LENGTH)
      .optional()
      .describe("CEL over `result`; true counts as a success (compiled by `ramp lint` and the controller, not the CRD)"),
    failureCondition: z
      .string()
      .max(MAX_CONDITION_LENGTH)
      .optional()
      .describe("CEL over `result`; true counts as a failure (compiled by `ramp lint` and the controller, not the CRD)"),
    failureLimit: z.int().min(0).default(0).describe("Failures tolerated before the metric fails"),
    inconclusiveLimit: z.int().min(0).default(0).describe("Inconclusive measurements tolerated"),
    consecutiveErrorLimit: z.int().min(0).default(4).describe("Errors in a row tolerated"),
    consecutiveSuccessLimit: z.int().min(0).default(0).describe("Successes in a row that end the metric early (0 = off)"),
    noData: z.enum(["inconclusive", "fail", "pass"]).default("inconclusive").describe("What an empty or NaN result means"),
    dryRun: z.boolean().default(false).describe("Measured and reported, never decides"),
    provider: z
      .strictObject({
        prometheus: prometheusProvider.optional(),
        slo: sloProvider.optional().describe("Error-rate and latency limits without writing PromQL"),
        judge: judgeProvider.optional().describe("Canary compared with baseline statistically"),
        burnRate: burnRateProvider.optional().describe("SLO burn rates over window pairs, or the error budget left"),
        web: webProvider.optional().describe("An HTTP endpoint's JSON answer, picked by a JSONPath"),
        job: jobProvider.optional().describe("A Kubernetes Job: Successful when it completes, Failed when it fails"),
      })
      .meta({ rules: [exactlyOne(PROVIDERS, `set exactly one provider: ${PROVIDERS.join(", ")}`)] }),
  })
  .meta({
    rules: [
      {
        rule: "has(self.provider.slo) || has(self.provider.judge) || has(self.provider.burnRate) || has(self.provider.job) || has(self.successCondition) || has(self.failureCondition)",
        message: "a prometheus or web metric needs successCondition, failureCondition or both",
      },
    ],
  });

const metrics = namedList(metric, MAX_LIST, "metric").refine((m) => m.length > 0, "needs at least one metric");
const dryRunList = z
  .array(z.strictObject({ metricName: z.string() }))
  .max(MAX_LIST)
  .optional()
  .describe("Metrics measured but never deciding");
const retentionList = z
  .array(z.strictObject({ metricName: z.string(), limit: z.int().min(1) }))
  .max(MAX_LIST)
  .optional()
  .describe("How many measurements to keep per metric (default 10)");

export const analysisTemplateSpec = z.strictObject({
  args: z.array(templateArg).max(MAX_LIST).optional().describe("Arguments the metrics use as {{args.NAME}}"),
  metrics,
  dryRun: dryRunList,
  measurementRetention: retentionList,
});

const runArg = z
  .strictObject({
    name: z.string(),
    value: z.string().optional(),
    valueFrom: z
      .strictObject({ secretKeyRef: secretKeyRef.optional(), fieldRef: z.strictObject({ fieldPath: z.string() }).optional() })
      .optional(),
  })
  .describe("A resolved argument; secrets are read when measuring, never copied here");

export const analysisRunSpec = z.strictObject({
  metrics,
  args: z.array(runArg).max(MAX_LIST).optional(),
  terminate: z.boolean().optional().describe("Stop measuring; the run ends with what it has"),
  dryRun: dryRunList,
  measurementRetention: retentionList,
});

const ANALYSIS_PHASES = ["Pending", "Running", "Successful", "Failed", "Inconclusive", "Error"] as const;
export const analysisPhase = z.enum(ANALYSIS_PHASES);

const measurement = z.strictObject({
  phase: analysisPhase,
  value: z.string().optional().describe("The result as text"),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  resumeAt: z.string().optional(),
  message: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional().describe("e.g. the query that ran, test statistics"),
});

export const analysisRunStatus = z.strictObject({
  phase: analysisPhase.optional(),
  message: z.string().optional(),
  startedAt: z.string().optional(),
  metricResults: z
    .array(
      z.strictObject({
        name: z.string(),
        phase: analysisPhase,
        dryRun: z.boolean().optional(),
        count: z.int().optional(),
        successful: z.int().optional(),
        failed: z.int().optional(),
        inconclusive: z.int().optional(),
        error: z.int().optional(),
        consecutiveError: z.int().optional(),
        consecutiveSuccess: z.int().optional(),
        message: z.string().optional(),
        measurements: z.array(measurement).optional(),
      }),
    )
    .optional(),
});

export const analysisTemplate = kindObject("AnalysisTemplate", analysisTemplateSpec);
export const clusterAnalysisTemplate = kindObject("ClusterAnalysisTemplate", analysisTemplateSpec);
export const analysisRun = kindObject("AnalysisRun", analysisRunSpec, analysisRunStatus);

export type AnalysisTemplate = z.infer<typeof analysisTemplate>;
export type AnalysisRun = z.infer<typeof analysisRun>;
export type Metric = z.infer<typeof metric>;
export type AnalysisPhase = z.infer<typeof analysisPhase>;
export type AnalysisRunSpec = z.infer<typeof analysisRunSpec>;
export type AnalysisRunStatus = z.infer<typeof analysisRunStatus>;
