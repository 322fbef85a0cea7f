// The catalogue of stable codes Ramp writes where a tenant reads why something could not be done
// (a measurement's or a gate's Error, a condition, a router's refusal, a dead-lettered notification).
// Scripts and alerts match on them, so a code is never renamed; docs/security.md lists each.
export const CODES = {
  // The outbound door and Secrets.
  DESTINATION_NOT_ALLOWED: "the controller's outbound policy refused the URL; nothing was sent",
  SECRET_NOT_OPTED_IN: "the Secret lacks the ramp.dev/secret-access label for this use; its data was not read",
  SECRET_NOT_FOUND: "the Secret does not exist in the object's namespace",
  SECRET_KEY_MISSING: "the Secret has no such key",
  SECRET_UNREADABLE: "the Secret could not be read (no cluster access, or the apiserver failed)",
  // successCondition / failureCondition.
  BAD_CONDITION: "the condition does not compile, or uses an unknown name or function",
  CONDITION_ERROR: "the condition failed while it was evaluated",
  CONDITION_NOT_BOOL: "the condition gave something other than true or false",
  CONDITION_BUDGET_EXCEEDED: "the condition ran past its cost budget or its time limit and was stopped",
  // Measurements.
  NO_PROVIDER: "the metric names no provider Ramp knows",
  PROVIDER_MISMATCH: "the measurement was handed to a provider the metric does not name",
  PROVIDER_ERROR: "the provider failed in a way it did not classify",
  BAD_ARGUMENT: "an argument could not be substituted into the query",
  JUDGE_BAD_SPEC: "the judge provider's queries or settings cannot be compared",
  JUDGE_BAD_COUNTS: "the judge provider's counts are not usable numbers",
  // The errorBudget step.
  ERROR_BUDGET_SPENT:
    "the errorBudget step's check found the service's error budget spent (or could not measure it); the rollout holds and checks again",
  // Prometheus.
  PROMETHEUS_NO_ADDRESS: "neither the metric nor the controller names a Prometheus address",
  PROMETHEUS_UNREACHABLE: "Prometheus could not be reached",
  PROMETHEUS_TIMEOUT: "Prometheus did not answer within the metric's timeout",
  PROMETHEUS_ABORTED: "the query was cancelled (the run ended or the controller stopped)",
  PROMETHEUS_BAD_QUERY: "Prometheus refused the query",
  PROMETHEUS_HTTP_ERROR: "Prometheus (or a proxy in front of it) answered with an HTTP error",
  PROMETHEUS_BAD_RESPONSE: "Prometheus's answer was not one Ramp can read",
  PROMETHEUS_NON_NUMERIC: "a sample's value is not a number",
  // The web provider.
  WEB_UNREACHABLE: "the web metric's URL could not be reached",
  WEB_BAD_HEADER:
    "a web metric's header value (after substitution, or from its Secret) holds a control character such as CR or LF",
  WEB_TIMEOUT: "the web metric's URL did not answer within the metric's timeout",
  WEB_ABORTED: "the web request was cancelled (the run ended or the controller stopped)",
  WEB_HTTP_ERROR: "the web metric's URL answered with an HTTP status outside 2xx (redirects are not followed)",
  WEB_RESPONSE_TOO_LARGE: "the web metric's answer is longer than 1 MiB; the rest was not read",
  WEB_BAD_RESPONSE: "the web metric's answer is not JSON",
  WEB_BAD_JSON_PATH: "the web metric's jsonPath is outside the supported subset",
  WEB_NON_NUMERIC: "the value the jsonPath picks is not a number, boolean or numeric string",
  // The job provider.
  JOB_PROVIDER_DISABLED:
    "job metrics are off: the controller was started without --job-provider (chart value jobProvider.enabled)",
  JOB_SPEC_REFUSED:
    "the metric's Job breaks the job provider's rules (host access, privileges, another ServiceAccount...), checked again before it is created",
  JOB_CREATE_FAILED: "the apiserver refused to create the metric's Job (its spec, quota or the controller's RBAC)",
  JOB_TIMEOUT: "the Job's controller did not finish the Job (Complete or Failed) by the metric's timeout",
  JOB_ABORTED: "waiting for the Job was cancelled (the run ended or the controller stopped)",
  JOB_UNAVAILABLE: "the Job could not be read or watched (the apiserver failed, or the controller's RBAC)",
  // Traffic routers.
  NOT_FOUND: "the route, service or other object the router needs does not exist",
  NOT_SERVED: "the cluster does not serve the router's API (its CRDs are not installed)",
  NO_BACKENDS: "the route has no backends Ramp can weight",
  UNSUPPORTED: "the step asks for something this router cannot express",
  NOT_OWNED: "the object Ramp would generate exists and belongs to someone else",
  CONFLICT: "the object kept changing under every attempt to write it",
  NOT_GRANTED: "the object is in another namespace and no ReferenceGrant there allows it",
  // Fleet members (a FleetRollout's status.waves[].clusters[].code).
  MEMBER_NOT_FOUND: "no ClusterProfile and no kubeconfig Secret in the FleetRollout's namespace names the member",
  MEMBER_CREDENTIALS_MISSING:
    "the member's ClusterProfile exists but no Secret labelled ramp.dev/fleet-member=<name> holds its kubeconfig",
  MEMBER_CREDENTIALS_INVALID:
    "the member's kubeconfig Secret has no kubeconfig key, does not parse, or needs files or an exec plugin (only inline material is read)",
  MEMBER_UNREACHABLE: "the member's apiserver could not be reached or did not answer in time",
  MEMBER_UNAUTHORIZED: "the member's apiserver rejected the kubeconfig's credentials (HTTP 401)",
  MEMBER_FORBIDDEN: "the member's apiserver refused the kubeconfig's user access to the Rollout (HTTP 403)",
  MEMBER_ROLLOUT_NOT_FOUND: "the member serves no Rollout of spec.rolloutRef's namespace and name (the fleet waits for it)",
  MEMBER_API_ERROR: "the member's apiserver answered with another error (its message follows)",
  // Why a notification was dead-lettered (the label of ramp_notifications_dead_letter_total).
  DELIVERY_FAILED: "the receiver did not take the notification within delivery.maxAttempts attempts",
  OUTBOX_FULL: "the namespace's outbox holds delivery.maxPending deliveries or 800,000 bytes; the notification did not fit",
  OUTBOX_WRITE_FAILED:
    "the namespace's outbox ConfigMap could not be written within the bounded retries (or before the controller stopped)",
} as const;

export type Code = keyof typeof CODES;

/** An error that carries a stable code, so callers turn it into data (a measurement, a condition)
 * by its code rather than by its message; each subclass names the codes it may carry. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string) {
    super(message);
    this.code = code;
  }
}
