// Pure: who hears of which rollout event. Destinations and controller-wide defaults come from the
// `ramp-notifications` ConfigMap; a Rollout adds its own subscriptions by annotation. Bad config
// never throws: each problem names its key and the rest of the config still works.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { durationMs } from "../api/duration.ts";
import type { EventReason } from "../api/reasons.ts";
import { duration } from "../api/schema-kit.ts";

/** Event reason (core/v1 Event, docs/reasons.md) -> the event name subscriptions use. */
export const EVENTS = {
  RolloutUpdated: "updated",
  StepCompleted: "step-completed",
  RolloutPaused: "paused",
  RolloutResumed: "resumed",
  RolloutPromoted: "promoted",
  RolloutCompleted: "completed",
  RolloutAborted: "aborted",
  RolloutRetried: "retried",
  RolloutRestarted: "restarted",
  AnalysisRunSuccessful: "analysis-successful",
  AnalysisRunFailed: "analysis-failed",
  AnalysisRunInconclusive: "analysis-inconclusive",
  AnalysisRunError: "analysis-error",
  ProgressDeadlineExceeded: "progress-deadline-exceeded",
  InvalidSpec: "invalid-spec",
  StableReplicaSetRecreated: "stable-replicaset-recreated",
  StableReplicaSetLost: "stable-replicaset-lost",
} as const satisfies Partial<Record<EventReason, string>>;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];
const EVENT_NAMES = new Set<string>(Object.values(EVENTS));

export const eventName = (reason: string): EventName | undefined =>
  Object.hasOwn(EVENTS, reason) ? EVENTS[reason as keyof typeof EVENTS] : undefined;

/** `notifications.ramp.dev/on-<event>` on a Rollout; `on-all` subscribes to every event. */
export const ANNOTATION_PREFIX = "notifications.ramp.dev/on-";
export const ALL_EVENTS = "all";

export type DestinationKind = "slack" | "webhook";
export interface SecretKeyRef {
  name: string;
  key: string;
}
/** A value given in the ConfigMap, or read from a Secret (in the ConfigMap's namespace) at send time. */
export type ValueSource = { value: string } | { secretKeyRef: SecretKeyRef };

export interface Destination {
  /** `<kind>:<name>`, as subscriptions name it. */
  id: string;
  kind: DestinationKind;
  url: ValueSource;
  signingKey?: SecretKeyRef;
  headers: Record<string, ValueSource>;
  /** Link shown in Slack messages; `{{namespace}}`, `{{rollout}}`, `{{revision}}` are filled in. */
  dashboardUrl?: string;
}

export interface DeliverySettings {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  /** Deliveries in flight at once, over all destinations. */
  concurrency: number;
  /** Deliveries waiting per namespace; beyond it new ones are dead-lettered (the outbox is a ConfigMap). */
  maxPending: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
  maxAttempts: 15,
  initialBackoffMs: 1_000,
  maxBackoffMs: 300_000,
  timeoutMs: 10_000,
  concurrency: 8,
  maxPending: 300,
};

export interface NotificationConfig {
  destinations: Map<string, Destination>;
  /** Controller-wide subscriptions by event name (or `all`). */
  defaults: Map<string, string[]>;
  delivery: DeliverySettings;
}

export interface ConfigProblem {
  code: "BAD_YAML" | "BAD_DESTINATION" | "BAD_DELIVERY" | "UNKNOWN_KEY" | "UNKNOWN_EVENT" | "UNKNOWN_DESTINATION";
  /** Names the ConfigMap key or annotation, and the field in it. */
  message: string;
}

export const emptyConfig = (): NotificationConfig => ({
  destinations: new Map(),
  defaults: new Map(),
  delivery: { ...DEFAULT_DELIVERY },
});

const DESTINATION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// RFC 9110 token; the headers Ramp sets itself cannot be overridden.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = /^(content-type|content-length|host|user-agent|x-ramp-.*)$/i;

const secretRef = z.strictObject({
  secretKeyRef: z.strictObject({ name: z.string().min(1, "must not be empty"), key: z.string().min(1, "must not be empty") }),
});
const httpUrl = z.string().refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), "must be an http(s) URL");
const headerValue = z.string().refine((v) => !/[\r\n]/.test(v), "must not contain line breaks");
const slackSchema = z.strictObject({
  // The URL of a Slack incoming webhook is its credential: only from a Secret.
  urlFrom: secretRef,
  dashboardUrl: httpUrl.optional(),
});
const webhookSchema = z
  .strictObject({
    url: httpUrl.optional(),
    urlFrom: secretRef.optional(),
    signingKeyFrom: secretRef.optional(),
    headers: z.record(z.string(), headerValue).optional(),
    headersFrom: z.record(z.string(), secretRef).optional(),
  })
  .refine((d) => (d.url === undefined) !== (d.urlFrom === undefined), "set exactly one of url or urlFrom");
const SCHEMAS = { slack: slackSchema, webhook: webhookSchema } as const;

const deliverySchema = z.strictObject({
  maxAttempts: z.int().min(1).max(100).optional(),
  initialBackoff: duration("first retry delay").optional(),
  maxBackoff: duration("longest retry delay").optional(),
  timeout: duration("per request", 600).optional(),
  concurrency: z.int().min(1).max(100).optional(),
  maxPending: z.int().min(1).max(1000).optional(),
});

const issueText = (issues: z.core.$ZodIssue[]) =>
  issues.map((i) => `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`).join("; ");

function parseDestinations(text: string, problems: ConfigProblem[]): Map<string, Destination> {
  const found = new Map<string, Destination>();
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    problems.push({ code: "BAD_YAML", message: `key "destinations": not YAML: ${(err as Error).message.split("\n")[0]}` });
    return found;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    problems.push({ code: "BAD_DESTINATION", message: `key "destinations": expected a map of slack and webhook` });
    return found;
  }
  for (const [kind, entries] of Object.entries(doc)) {
    if (kind !== "slack" && kind !== "webhook") {
      problems.push({ code: "BAD_DESTINATION", message: `key "destinations": unknown kind "${kind}" (slack or webhook)` });
      continue;
    }
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
      problems.push({ code: "BAD_DESTINATION", message: `key "destinations", ${kind}: expected a map of destination names` });
      continue;
    }
    for (const [name, spec] of Object.entries(entries)) {
      const where = `key "destinations", ${kind}.${name}`;
      if (!DESTINATION_NAME.test(name)) {
        problems.push({ code: "BAD_DESTINATION", message: `${where}: name must be lower-case letters, digits and '-'` });
        continue;
      }
      const parsed = SCHEMAS[kind].safeParse(spec);
      if (!parsed.success) {
        problems.push({ code: "BAD_DESTINATION", message: `${where}: ${issueText(parsed.error.issues)}` });
        continue;
      }
      const d = parsed.data as z.infer<typeof webhookSchema> & z.infer<typeof slackSchema>;
      const headers: Record<string, ValueSource> = {};
      for (const [h, value] of Object.entries(d.headers ?? {})) headers[h] = { value };
      for (const [h, from] of Object.entries(d.headersFrom ?? {})) headers[h] = from;
      const bad = Object.keys(headers).find((h) => !HEADER_NAME.test(h) || RESERVED_HEADERS.test(h));
      if (bad !== undefined) {
        problems.push({ code: "BAD_DESTINATION", message: `${where}: header "${bad}" is not a header name Ramp lets you set` });
        continue;
      }
      found.set(`${kind}:${name}`, {
        id: `${kind}:${name}`,
        kind,
        url: d.urlFrom ?? { value: d.url as string },
        ...(d.signingKeyFrom ? { signingKey: d.signingKeyFrom.secretKeyRef } : {}),
        headers,
        ...(d.dashboardUrl ? { dashboardUrl: d.dashboardUrl } : {}),
      });
    }
  }
  return found;
}

function parseDelivery(text: string, problems: ConfigProblem[]): DeliverySettings {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    problems.push({ code: "BAD_YAML", message: `key "delivery": not YAML: ${(err as Error).message.split("\n")[0]}` });
    return { ...DEFAULT_DELIVERY };
  }
  const parsed = deliverySchema.safeParse(doc);
  if (!parsed.success) {
    problems.push({ code: "BAD_DELIVERY", message: `key "delivery": ${issueText(parsed.error.issues)}; using the defaults` });
    return { ...DEFAULT_DELIVERY };
  }
  const d = parsed.data;
  const ms = (v: string | number | undefined, fallback: number) => (v === undefined ? fallback : durationMs(v));
  const settings: DeliverySettings = {
    maxAttempts: d.maxAttempts ?? DEFAULT_DELIVERY.maxAttempts,
    initialBackoffMs: ms(d.initialBackoff, DEFAULT_DELIVERY.initialBackoffMs),
    maxBackoffMs: ms(d.maxBackoff, DEFAULT_DELIVERY.maxBackoffMs),
    timeoutMs: ms(d.timeout, DEFAULT_DELIVERY.timeoutMs),
    concurrency: d.concurrency ?? DEFAULT_DELIVERY.concurrency,
    maxPending: d.maxPending ?? DEFAULT_DELIVERY.maxPending,
  };
  if (settings.timeoutMs <= 0 || settings.initialBackoffMs <= 0 || settings.maxBackoffMs < settings.initialBackoffMs) {
    problems.push({
      code: "BAD_DELIVERY",
      message: `key "delivery": timeout and initialBackoff must be positive, maxBackoff at least initialBackoff; using the defaults`,
    });
    return { ...DEFAULT_DELIVERY };
  }
  return settings;
}

/** `slack:deploys, webhook:oncall` -> the destination ids, trimmed, empty items dropped. */
export const destinationList = (value: string): string[] =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** A subscription key's event (`on-aborted` -> `aborted`), or a problem. */
function subscriptionEvent(key: string, prefix: string, where: string, problems: ConfigProblem[]): string | undefined {
  const event = key.slice(prefix.length);
  if (event === ALL_EVENTS || EVENT_NAMES.has(event)) return event;
  problems.push({
    code: "UNKNOWN_EVENT",
    message: `${where} "${key}": unknown event "${event}" (one of ${ALL_EVENTS}, ${[...EVENT_NAMES].join(", ")})`,
  });
  return undefined;
}

/** The ConfigMap's data: `destinations` and `delivery` (YAML), `on-<event>` default subscriptions. */
export function parseConfig(data: Readonly<Record<string, string>>): { config: NotificationConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const config = emptyConfig();
  if (data.destinations !== undefined) config.destinations = parseDestinations(data.destinations, problems);
  if (data.delivery !== undefined) config.delivery = parseDelivery(data.delivery, problems);
  for (const [key, value] of Object.entries(data)) {
    if (key === "destinations" || key === "delivery") continue;
    if (!key.startsWith("on-")) {
      problems.push({ code: "UNKNOWN_KEY", message: `key "${key}": unknown (destinations, delivery or on-<event>)` });
      continue;
    }
    const event = subscriptionEvent(key, "on-", "key", problems);
    if (event === undefined) continue;
    const ids = destinationList(value);
    for (const id of ids.filter((i) => !config.destinations.has(i))) {
      problems.push({ code: "UNKNOWN_DESTINATION", message: `key "${key}": destination "${id}" is not configured` });
    }
    config.defaults.set(
      event,
      ids.filter((i) => config.destinations.has(i)),
    );
  }
  return { config, problems };
}

/** The destinations of one event of a Rollout: the defaults plus its annotations, each once, in
 * the order named. Problems name the annotation. */
export function subscribers(
  config: NotificationConfig,
  annotations: Readonly<Record<string, string>>,
  event: EventName,
): { destinations: Destination[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const ids = [...(config.defaults.get(ALL_EVENTS) ?? []), ...(config.defaults.get(event) ?? [])];
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const subscribed = subscriptionEvent(key, ANNOTATION_PREFIX, "annotation", problems);
    if (subscribed !== ALL_EVENTS && subscribed !== event) continue;
    for (const id of destinationList(value)) {
      if (config.destinations.has(id)) ids.push(id);
      else problems.push({ code: "UNKNOWN_DESTINATION", message: `annotation "${key}": destination "${id}" is not configured` });
    }
  }
  const destinations = [...new Set(ids)].map((id) => config.destinations.get(id)).filter((d): d is Destination => !!d);
  return { destinations, problems };
}
