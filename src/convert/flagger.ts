// Pure: Flagger objects (flagger.app/v1beta1 Canary, MetricTemplate, AlertProvider) as Ramp's.
// Flagger copies the target Deployment into `<name>-primary` and routes between generated Services;
// Ramp adopts the Deployment through workloadRef and owns its ReplicaSets. So a Canary becomes a
// Rollout, the Services and route it needs, and an AnalysisTemplate holding its metrics, whose
// thresholds and MetricTemplate queries are written into it.
import { durationMs, formatDuration } from "../api/duration.ts";
import { API_VERSION, convertMetadata, objectName, objectNamespace } from "./common.ts";
import { type Fields, type Json, report } from "./fields.ts";

export const FLAGGER_API_VERSION = "flagger.app/v1beta1";
export const FLAGGER_KINDS = ["Canary", "MetricTemplate", "AlertProvider"];

/** A MetricTemplate already converted: its query keeps Flagger's `{{ variable }}`s for each Canary to fill. */
export type MetricTemplateResult = { ok: true; address?: string; query: string } | { ok: false };
export type AlertProviderResult = { ok: true; destination: string } | { ok: false };

/** What a Canary may refer to elsewhere in the input. */
export interface Inventory {
  deployment(namespace: string, name: string): Json | undefined;
  metricTemplate(namespace: string, name: string): MetricTemplateResult | undefined;
  alertProvider(namespace: string, name: string): AlertProviderResult | undefined;
}

/** The namespace the controller reads notification destinations from (docs/notifications.md). */
export const NOTIFICATIONS_NAMESPACE = "ramp-system";

export function convertMetricTemplate(root: Fields): MetricTemplateResult {
  const spec = root.child("spec");
  const provider = spec?.child("provider");
  const type = provider?.get("type") ?? "prometheus";
  if (!spec || !provider || type !== "prometheus") {
    spec?.ignore(Object.keys(spec.value));
    root.drop("spec", `Ramp has no ${String(type)} provider yet: Canaries using this MetricTemplate lose the metric`);
    return { ok: false };
  }
  const address = provider.get("address");
  provider.drop("secretRef", "Ramp reads Prometheus credentials with auth.bearerToken or auth.basic; add it to the template");
  provider.drop("insecureSkipVerify", "Ramp always verifies TLS");
  provider.drop("region", "used by cloud providers only");
  provider.done();
  const query = spec.get("query");
  spec.done();
  if (typeof query !== "string" || !query.trim()) {
    root.drop("spec", "no query");
    return { ok: false };
  }
  root.note("", "written into the AnalysisTemplate of each Canary that uses it");
  return { ok: true, query, ...(typeof address === "string" ? { address } : {}) };
}

export function convertAlertProvider(root: Fields, destinations: Json): AlertProviderResult {
  const name = objectName(root.value);
  const spec = root.child("spec");
  const type = spec?.get("type");
  if (!spec || type !== "slack") {
    spec?.ignore(Object.keys(spec.value));
    root.drop("spec", `Ramp notifies Slack and signed webhooks; ${String(type)} is not converted`);
    return { ok: false };
  }
  spec.drop("channel", "a Slack incoming webhook posts to the channel it was made for");
  spec.drop("username", "a Slack incoming webhook posts as the app it belongs to");
  spec.drop("proxy", "Ramp's outbound calls use no proxy");
  spec.drop("address", "Ramp reads Slack URLs only from a Secret: put it in one (key address) and set secretRef");
  const secret = spec.child("secretRef");
  const secretName = secret?.get("name");
  secret?.done();
  spec.done();
  if (typeof secretName !== "string") return { ok: false };
  destinations.slack ??= {};
  const slack = destinations.slack as Json;
  slack[name] = { urlFrom: { secretKeyRef: { name: secretName, key: "address" } } };
  root.note(
    "spec",
    `Secret ${secretName} must be in ${NOTIFICATIONS_NAMESPACE} and labelled ramp.dev/secret-access: notifications`,
  );
  return { ok: true, destination: `slack:${name}` };
}

const SEVERITY_EVENTS: Record<string, string[]> = {
  info: ["all"],
  warn: ["aborted", "paused", "analysis-failed", "analysis-error", "progress-deadline-exceeded"],
  error: ["aborted"],
};

/** Webhook types that become gates, where they go, and whether a failure pauses or aborts. */
const GATE_TYPES: Record<string, "pause" | "abort"> = {
  "confirm-rollout": "pause",
  "pre-rollout": "abort",
  rollout: "abort",
  "confirm-traffic-increase": "pause",
  "confirm-promotion": "pause",
};
const NOT_GATES: Record<string, string> = {
  "post-rollout": "Ramp calls no hook after a rollout; subscribe a webhook destination to on-completed (docs/notifications.md)",
  rollback: "Ramp has no rollback hook; a gate with onFailure: abort, or `ramp abort`",
  event: "subscribe a webhook destination to on-all (docs/notifications.md)",
};
/** Confirmation gates wait as Flagger does: retried each interval, for a long while. */
const CONFIRM_RETRIES = 100;
const MAX_STEPS = 64;

type Mode = "canary" | "ab" | "bluegreen";

interface Names {
  canary: string;
  namespace: string;
  target: string;
  apex: string;
  primary: string;
  canaryService: string;
}

function services(names: Names, service: Fields | undefined, selector: Record<string, string>, mode: Mode): Json[] {
  const port = Number(service?.get("port") ?? 80);
  const targetPort = service?.get("targetPort") ?? port;
  const portName = service?.get("portName") ?? "http";
  const ports = [{ name: portName, port, targetPort }];
  const meta = (name: string) => ({ name, ...(names.namespace ? { namespace: names.namespace } : {}) });
  const svc = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: meta(name), spec: { selector, ports } });
  return mode === "bluegreen"
    ? [svc(names.apex), svc(names.canaryService)]
    : [svc(names.apex), svc(names.primary), svc(names.canaryService)];
}

function router(provider: string, names: Names, service: Fields | undefined, spec: Fields, out: Json[]): Json | undefined {
  const port = Number(service?.value.port ?? 80);
  const meta = { name: names.apex, ...(names.namespace ? { namespace: names.namespace } : {}) };
  const hosts = service?.get("hosts") as string[] | undefined;
  switch (provider) {
    case "istio": {
      const gateways = service?.get("gateways");
      const destination = (host: string, weight: number) => ({ destination: { host, port: { number: port } }, weight });
      out.push({
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: meta,
        spec: {
          hosts: hosts ?? [names.apex],
          ...(gateways ? { gateways } : {}),
          http: [{ name: "primary", route: [destination(names.primary, 100), destination(names.canaryService, 0)] }],
        },
      });
      return { istio: { virtualService: { name: names.apex, routes: ["primary"] } } };
    }
    case "gatewayapi": {
      const parentRefs = service?.get("gatewayRefs");
      const backend = (name: string, weight: number) => ({ name, port, weight });
      out.push({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: meta,
        spec: {
          ...(parentRefs ? { parentRefs } : {}),
          ...(hosts ? { hostnames: hosts } : {}),
          rules: [{ backendRefs: [backend(names.primary, 100), backend(names.canaryService, 0)] }],
        },
      });
      return { gatewayAPI: { httpRoute: names.apex } };
    }
    case "nginx": {
      const ingress = spec.child("ingressRef")?.value.name;
      spec.ignore(["ingressRef"]);
      if (typeof ingress !== "string") {
        spec.note("provider", "nginx without ingressRef: no router");
        return undefined;
      }
      spec.note("ingressRef", `the Ingress ${ingress} must send to the Service ${names.primary} (Ramp's stable Service)`);
      return { nginx: { stableIngress: ingress } };
    }
    case "linkerd":
    case "osm":
    case "smi":
      return { smi: { trafficSplitName: names.apex, rootService: names.apex } };
    case "kubernetes":
      return undefined;
    default:
      spec.drop("provider", `Ramp has no ${provider} router; weights are approximated by replica counts`);
      return undefined;
  }
}

/** Flagger's `{{ variable }}`s in a MetricTemplate query, for one Canary's metric. */
function fillQuery(query: string, vars: Record<string, string>): { ok: true; query: string } | { ok: false; unknown: string } {
  let unknown = "";
  const filled = query.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, name: string) => {
    const v = vars[name];
    if (v === undefined) unknown ||= name;
    return v ?? whole;
  });
  return unknown ? { ok: false, unknown } : { ok: true, query: filled };
}

function metrics(a: Fields, names: Names, provider: string, ingress: string | undefined, inv: Inventory, decide: Json): Json[] {
  const sloSource = provider === "istio" ? "istio" : provider === "nginx" ? "nginx" : "http";
  return a.items("metrics").flatMap((m): Json[] => {
    const name = String(m.get("name") ?? "");
    const window = m.get("interval");
    const range = m.child("thresholdRange");
    const min = range?.get("min") as number | undefined;
    const max = range?.get("max") as number | undefined;
    const base = { name, ...decide };
    if (name === "request-success-rate" || name === "request-duration") {
      const success = name === "request-success-rate";
      range?.drop(
        success ? "max" : "min",
        success ? "a success rate has only a lower bound" : "a latency has only an upper bound",
      );
      range?.done();
      const bound = success ? min : max;
      if (typeof bound !== "number") {
        m.drop("thresholdRange", `${name} needs thresholdRange.${success ? "min" : "max"}`);
        return [];
      }
      const slo: Json = {
        source: sloSource,
        service: sloSource === "nginx" ? names.apex : names.canaryService,
        namespace: "{{args.namespace}}",
        ...(sloSource === "nginx" && ingress ? { ingress: `${names.canary}-${ingress}-canary` } : {}),
        ...(typeof window === "string" ? { window } : {}),
        ...(success
          ? { errorRate: { max: Math.round((100 - bound) * 1e4) / 1e6 } }
          : { latency: { quantile: 0.99, max: `${bound}ms` } }),
      };
      m.done();
      return [{ ...base, provider: { slo } }];
    }
    range?.done();
    const ref = m.child("templateRef");
    const inline = m.get("query");
    let template: MetricTemplateResult | undefined;
    if (ref) {
      const refName = String(ref.get("name"));
      const refNs = String(ref.get("namespace") ?? names.namespace);
      ref.done();
      template = inv.metricTemplate(refNs, refName);
      if (!template) {
        m.drop("templateRef", `the MetricTemplate ${refNs ? `${refNs}/` : ""}${refName} is not in the input`);
        return [];
      }
      if (!template.ok) {
        m.drop("templateRef", `its MetricTemplate ${refName} could not be converted (reported there)`);
        return [];
      }
    } else if (typeof inline === "string") template = { ok: true, query: inline };
    else {
      m.drop("name", `${name} is not a Flagger builtin metric and has no templateRef or query`);
      return [];
    }
    const variables = m.child("templateVariables");
    const vars: Record<string, string> = {
      name: names.canary,
      namespace: "{{args.namespace}}",
      target: names.target,
      service: names.apex,
      interval: typeof window === "string" ? window : "1m",
      ...(ingress ? { ingress } : {}),
    };
    for (const k of Object.keys(variables?.value ?? {})) vars[`variables.${k}`] = String(variables?.get(k));
    const filled = fillQuery(template.query, vars);
    if (!filled.ok) {
      m.drop(ref ? "templateRef" : "query", `the query uses {{ ${filled.unknown} }}, which this Canary does not set`);
      return [];
    }
    if (min === undefined && max === undefined) {
      m.drop("thresholdRange", "Ramp needs a condition: set thresholdRange.min or .max");
      return [];
    }
    const condition = [min !== undefined ? `result >= ${min}` : "", max !== undefined ? `result <= ${max}` : ""]
      .filter(Boolean)
      .join(" && ");
    m.done();
    return [
      {
        ...base,
        successCondition: condition,
        provider: { prometheus: { ...(template.address ? { address: template.address } : {}), query: filled.query } },
      },
    ];
  });
}

function gates(a: Fields, threshold: number, interval: string, mode: Mode): Record<string, Json[]> {
  const byType: Record<string, Json[]> = {};
  for (const w of a.items("webhooks")) {
    const type = String(w.get("type") ?? "rollout");
    const notGate = NOT_GATES[type];
    const onFailure = GATE_TYPES[type];
    if (notGate || !onFailure) {
      w.ignore(Object.keys(w.value));
      w.drop("type", `${type} webhook: ${notGate ?? "an unknown webhook type"}`);
      continue;
    }
    const stepless =
      mode === "bluegreen"
        ? type === "rollout" || type === "confirm-traffic-increase"
        : mode === "ab" && type === "confirm-traffic-increase";
    if (stepless) {
      w.ignore(Object.keys(w.value));
      report(
        w.doc,
        "dropped",
        w.path,
        `${type} webhook: ${mode === "ab" ? "an A/B test has no weight steps" : "blue-green has no steps"}`,
      );
      continue;
    }
    const gate: Json = { name: w.get("name"), url: w.get("url") };
    w.copy(gate, ["timeout"]);
    const confirm = onFailure === "pause";
    gate.retries = confirm ? CONFIRM_RETRIES : Number(w.get("retries") ?? Math.max(threshold - 1, 0));
    if (confirm) w.drop("retries", "a confirmation gate is retried each interval until promoted");
    gate.retryDelay = interval;
    gate.onFailure = onFailure;
    w.drop("metadata", "Ramp's gates send a fixed payload (rollout, namespace, revision, step, gate)");
    w.drop("muteAlert", "Ramp's notifications do not know gates");
    w.done();
    byType[type] ??= [];
    byType[type].push(gate);
  }
  return byType;
}

function weights(a: Fields): number[] {
  const listed = a.get("stepWeights");
  if (Array.isArray(listed)) return listed.map(Number);
  const step = Number(a.get("stepWeight"));
  const max = Number(a.get("maxWeight") ?? 100);
  const out: number[] = [];
  // One past the limit is enough to report the overflow; a tiny stepWeight must not build millions.
  for (let w = step; w <= max && w < 100 && step > 0 && out.length <= MAX_STEPS; w += step) out.push(w);
  return out;
}

/** Flagger's match blocks (any of them), each headers that must all match. NGINX's canary Ingress
 * matches one header and no cookie, so there only the first header is kept. */
function headerMatches(a: Fields, nginx: boolean): Json[][] {
  let kept = 0;
  return a.items("match").map((block) => {
    const headers = block.child("headers");
    const out = Object.keys(headers?.value ?? {}).flatMap((h): Json[] => {
      if (nginx && (h.toLowerCase() === "cookie" || kept > 0)) {
        headers?.drop(
          h,
          h.toLowerCase() === "cookie"
            ? "Ramp's NGINX router matches a header, not a cookie"
            : "Ramp's NGINX router matches one header",
        );
        return [];
      }
      const v = headers?.child(h);
      if (!v) return [];
      kept++;
      const value: Json = {};
      v.copy(value, ["exact", "prefix", "regex"]);
      v.drop("suffix", "Ramp matches headers exactly, by prefix or by regex");
      v.done();
      return Object.keys(value).length === 1 ? [{ headerName: h, headerValue: value }] : [];
    });
    headers?.done();
    block.done("Ramp's header routes match headers only");
    return out;
  });
}

export function convertCanary(root: Fields, inv: Inventory): Json[] {
  const name = objectName(root.value);
  const namespace = objectNamespace(root.value);
  const metadata = convertMetadata(root);
  const spec = root.child("spec") ?? root;
  const target = spec.child("targetRef");
  const targetName = String(target?.get("name") ?? name);
  const targetKind = target?.get("kind") ?? "Deployment";
  target?.ignore(["apiVersion"]);
  target?.done();
  if (targetKind !== "Deployment") {
    spec.ignore(Object.keys(spec.value));
    spec.drop("targetRef", `Ramp adopts Deployments only; a ${String(targetKind)} cannot be converted`);
    return [];
  }
  const service = spec.child("service");
  const apex = String(service?.get("name") ?? targetName);
  const names: Names = {
    canary: name,
    namespace,
    target: targetName,
    apex,
    primary: `${apex}-primary`,
    canaryService: `${apex}-canary`,
  };
  const deployment = inv.deployment(namespace, targetName);
  const depSpec = deployment?.spec as Json | undefined;
  const selector = ((depSpec?.selector as Json | undefined)?.matchLabels as Record<string, string> | undefined) ?? {
    app: targetName,
  };
  if (!deployment)
    spec.note("targetRef", `the Deployment ${targetName} is not in the input: assumed its pods are labelled app=${targetName}`);

  const a = spec.child("analysis") ?? spec;
  const interval = String(a.get("interval") ?? "1m");
  const threshold = Number(a.get("threshold") ?? 1);
  const iterations = Number(a.get("iterations") ?? 0);
  const matchCount = Array.isArray(a.value.match) ? a.value.match.length : 0;
  const mode: Mode =
    a.has("stepWeight") || a.has("stepWeights")
      ? "canary"
      : iterations && matchCount
        ? "ab"
        : iterations
          ? "bluegreen"
          : "canary";
  // Flagger falls back to its -mesh-provider flag, istio by default.
  if (!spec.has("provider")) spec.note("targetRef", "no provider: assumed istio, Flagger's default mesh provider");
  const providerName = String(spec.get("provider") ?? "istio").split(":")[0] as string;
  const ingress = spec.value.ingressRef ? String((spec.value.ingressRef as Json).name) : undefined;

  const extra: Json[] = [];
  const routing = mode === "bluegreen" ? undefined : router(providerName, names, service, spec, extra);
  if (mode === "bluegreen" && providerName !== "kubernetes") {
    spec.note("provider", `blue-green switches the selector of the Service ${apex}; no ${providerName} route is needed`);
    spec.ignore(["ingressRef"]);
  }
  if (providerName !== "istio" || mode === "bluegreen") service?.drop("gateways", "Istio gateways go on a VirtualService");
  for (const key of ["trafficPolicy", "match", "rewrite", "retries", "headers", "corsPolicy", "timeout", "mirror"])
    service?.drop(key, "set it on the route (VirtualService or HTTPRoute) Ramp weights; Ramp leaves other fields alone");
  for (const key of ["apex", "primary", "canary"]) service?.drop(key, "set labels and annotations on the generated Services");
  service?.ignore(["port", "targetPort", "portName", "hosts", "gatewayRefs", "name"]);
  service?.done();

  const decide: Json = {
    interval,
    failureLimit: Math.max(threshold - 1, 0),
    noData: "fail",
    ...(mode === "bluegreen" ? { count: iterations } : {}),
  };
  const templateMetrics = metrics(a, names, providerName, ingress, inv, decide);
  const gatesByType = gates(a, threshold, interval, mode);
  // Copies: one webhook may become a gate at several steps.
  const gate = (type: string) => (gatesByType[type] ?? []).map((g) => structuredClone(g));
  const analysisRef = templateMetrics.length
    ? {
        templates: [{ templateName: name }],
        args: [{ name: "namespace", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
      }
    : undefined;

  const strategy: Json = {};
  if (mode === "bluegreen") {
    const promotionGates = [...gate("confirm-promotion"), ...gate("pre-rollout"), ...gate("confirm-rollout")];
    if (promotionGates.length > 1)
      a.note("webhooks", `blue-green has one pre-promotion gate: ${String(promotionGates[0]?.name)} kept, the others left out`);
    strategy.blueGreen = {
      activeService: apex,
      previewService: names.canaryService,
      ...(analysisRef ? { prePromotionAnalysis: analysisRef } : {}),
      ...(promotionGates[0] ? { prePromotionGate: promotionGates[0] } : {}),
    };
  } else {
    const steps: Json[] = [...gate("confirm-rollout"), ...gate("pre-rollout")].map((g) => ({ gate: g }));
    const managedRoutes: Json[] = [];
    if (mode === "ab") {
      if (!routing) a.drop("match", "header routes need a router (istio, gatewayapi or nginx)");
      else
        headerMatches(a, providerName === "nginx")
          .filter((match) => match.length)
          .forEach((match, i) => {
            const route = `ab-${i + 1}`;
            managedRoutes.push({ name: route });
            steps.push({ setHeaderRoute: { name: route, match } });
          });
      steps.push(...gate("rollout").map((g) => ({ gate: g })));
      steps.push({ pause: { duration: formatDuration(durationMs(interval) * iterations) } });
    } else
      weights(a).forEach((w, i) => {
        if (i > 0) steps.push(...gate("confirm-traffic-increase").map((g) => ({ gate: g })));
        steps.push({ setWeight: w }, ...gate("rollout").map((g) => ({ gate: g })), { pause: { duration: interval } });
      });
    steps.push(...gate("confirm-promotion").map((g) => ({ gate: g })));
    if (steps.length > MAX_STEPS) {
      a.drop("stepWeight", `more than ${MAX_STEPS} steps, Ramp's limit: raise stepWeight (steps past ${MAX_STEPS} left out)`);
      steps.length = MAX_STEPS;
    }
    strategy.canary = {
      stableService: names.primary,
      canaryService: names.canaryService,
      ...(routing ? { trafficRouting: { ...routing, ...(managedRoutes.length ? { managedRoutes } : {}) } } : {}),
      ...(analysisRef ? { analysis: analysisRef } : {}),
      steps,
    };
  }
  a.ignore(["interval", "threshold", "iterations", "stepWeight", "stepWeights", "maxWeight"]);
  if (mode !== "ab") a.drop("match", "Ramp weights every request; an A/B test (iterations with match) routes by header");
  a.dropEach({
    stepWeightPromotion: "Ramp promotes at once after the last step",
    mirror: "Ramp mirrors with a setMirrorRoute step on a canary, not during blue-green",
    mirrorWeight: "Ramp mirrors with a setMirrorRoute step",
    primaryReadyThreshold: "Ramp waits for every pod to be ready",
    canaryReadyThreshold: "Ramp waits for every pod to be ready",
    sessionAffinity: "Ramp has no cookie session affinity",
  });

  const annotations = alerts(a, namespace, inv);
  if (Object.keys(annotations).length) metadata.annotations = { ...(metadata.annotations as Json), ...annotations };
  if (a !== spec) a.done();

  const rolloutSpec: Json = {
    ...(typeof depSpec?.replicas === "number" ? { replicas: depSpec.replicas } : {}),
    selector: { matchLabels: selector },
    workloadRef: { apiVersion: "apps/v1", kind: "Deployment", name: targetName, scaleDown: "onsuccess" },
    strategy,
  };
  spec.copy(rolloutSpec, ["progressDeadlineSeconds"]);
  spec.copy(rolloutSpec, ["suspend"], { suspend: "paused" });
  spec.drop(
    "autoscalerRef",
    "point the HorizontalPodAutoscaler at the Rollout (scaleTargetRef: ramp.dev/v1alpha1 Rollout): it has the scale subresource",
  );
  spec.drop("skipAnalysis", "Ramp always runs the steps; `ramp promote --full` skips them once");
  spec.drop("revertOnDeletion", "Ramp leaves the Deployment as workloadRef.scaleDown says");
  spec.drop("upstreamRef", "Ramp has no Gloo router");
  spec.drop("routeRef", "Ramp has no such route reference");
  spec.ignore(["provider", "ingressRef"]);
  if (spec !== root) spec.done();

  const rollout = { apiVersion: API_VERSION, kind: "Rollout", metadata, spec: rolloutSpec };
  const template = templateMetrics.length
    ? [
        {
          apiVersion: API_VERSION,
          kind: "AnalysisTemplate",
          metadata: { name, ...(namespace ? { namespace } : {}) },
          spec: { args: [{ name: "namespace" }], metrics: templateMetrics },
        },
      ]
    : [];
  return [rollout, ...template, ...services(names, service, selector, mode), ...extra];
}

function alerts(a: Fields, namespace: string, inv: Inventory): Record<string, string> {
  const byEvent: Record<string, string[]> = {};
  for (const alert of a.items("alerts")) {
    const severity = String(alert.get("severity") ?? "info");
    const ref = alert.child("providerRef");
    const refName = String(ref?.get("name"));
    const refNs = String(ref?.get("namespace") ?? namespace);
    ref?.done();
    alert.ignore(["name"]);
    const provider = inv.alertProvider(refNs, refName);
    const events = SEVERITY_EVENTS[severity];
    if (!provider?.ok || !events) {
      alert.ignore(["severity"]);
      alert.drop(
        "providerRef",
        !events
          ? `unknown severity ${severity}`
          : provider
            ? `its AlertProvider ${refName} could not be converted (reported there)`
            : `the AlertProvider ${refName} is not in the input`,
      );
      continue;
    }
    for (const e of events) byEvent[e] = [...(byEvent[e] ?? []), provider.destination];
    alert.done();
  }
  return Object.fromEntries(
    Object.entries(byEvent).map(([e, ids]) => [`notifications.ramp.dev/on-${e}`, [...new Set(ids)].join(", ")]),
  );
}
