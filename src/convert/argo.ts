// Pure: Argo Rollouts objects (argoproj.io/v1alpha1 Rollout, AnalysisTemplate,
// ClusterAnalysisTemplate, AnalysisRun) as Ramp's. Ramp's field names follow Argo's, so most fields
// are copied; the rest are dropped with why (routers, providers and steps Ramp does not have).
import { argoConditionToCel } from "./cel.ts";
import { API_VERSION, convertMetadata, integer } from "./common.ts";
import { type Fields, type Json, report } from "./fields.ts";

export const ARGO_API_VERSION = "argoproj.io/v1alpha1";
export const ARGO_KINDS = ["Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"];

const GATEWAY_PLUGIN = "argoproj-labs/gatewayAPI";
const NO_ROUTER: Record<string, string> = {
  alb: "AWS ALB",
  ambassador: "Ambassador",
  appMesh: "AWS App Mesh",
  traefik: "Traefik",
  apisix: "Apache APISIX",
};
const NO_PROVIDER: Record<string, string> = {
  web: "web (HTTP)",
  job: "job",
  datadog: "Datadog",
  newRelic: "New Relic",
  wavefront: "Wavefront",
  kayenta: "Kayenta",
  cloudWatch: "CloudWatch",
  graphite: "Graphite",
  influxdb: "InfluxDB",
  skywalking: "SkyWalking",
  plugin: "plugin",
};

function analysisRefs(src: Fields): Json {
  const out: Json = {};
  out.templates = src.items("templates").map((t) => {
    const ref: Json = {};
    t.copy(ref, ["templateName", "clusterScope"]);
    t.done();
    return ref;
  });
  const passed = src.items("args").map((a) => {
    const arg: Json = {};
    a.copy(arg, ["name", "value"]);
    const from = a.child("valueFrom");
    if (from) {
      const valueFrom: Json = {};
      from.copy(valueFrom, ["podTemplateHashValue", "fieldRef"]);
      from.done("Ramp's rollout arguments take podTemplateHashValue or fieldRef; the template can read a Secret itself");
      if (Object.keys(valueFrom).length) arg.valueFrom = valueFrom;
    }
    a.done();
    return arg;
  });
  // An argument whose only source was dropped is left out (reported above), not written empty.
  const args = passed.filter((arg) => arg.value !== undefined || arg.valueFrom !== undefined);
  if (args.length) out.args = args;
  src.copy(out, ["dryRun", "startingStep"]);
  src.drop("measurementRetention", "set measurementRetention in the AnalysisTemplate");
  src.drop("analysisRunMetadata", "Ramp labels its AnalysisRuns itself");
  src.done();
  return out;
}

function trafficRouting(src: Fields): Json | undefined {
  const out: Json = {};
  const istio = src.child("istio");
  if (istio) {
    const o: Json = {};
    const vs = istio.child("virtualService");
    const many = istio.items("virtualServices");
    const one = vs ?? (many.length === 1 ? many[0] : undefined);
    if (many.length > 1) istio.drop("virtualServices", "Ramp weights one VirtualService");
    if (one) {
      const v: Json = {};
      one.copy(v, ["name", "routes"]);
      one.drop("tlsRoutes", "Ramp weights http routes only");
      one.drop("tcpRoutes", "Ramp weights http routes only");
      one.done();
      o.virtualService = v;
    }
    const dr = istio.child("destinationRule");
    if (dr) {
      o.destinationRule = {};
      dr.copy(o.destinationRule as Json, ["name", "stableSubsetName", "canarySubsetName"]);
      dr.done();
    }
    istio.done();
    out.istio = o;
  }
  const nginx = src.child("nginx");
  if (nginx) {
    const o: Json = {};
    nginx.copy(o, ["stableIngress", "stableIngresses", "annotationPrefix", "additionalIngressAnnotations"]);
    nginx.drop("canaryIngressAnnotations", "put them in additionalIngressAnnotations, which Ramp writes with the prefix");
    nginx.done();
    out.nginx = o;
  }
  const smi = src.child("smi");
  if (smi) {
    const o: Json = {};
    smi.copy(o, ["trafficSplitName", "rootService"]);
    smi.done();
    out.smi = o;
  }
  const plugins = src.child("plugins");
  if (plugins) {
    const gw = plugins.child(GATEWAY_PLUGIN, ["spec", "strategy", "canary", "trafficRouting", "gatewayAPI"]);
    if (gw) {
      const o: Json = {};
      gw.copy(o, ["httpRoute", "namespace"]);
      const routes = gw.items("httpRoutes").map((r) => {
        const route: Json = {};
        r.copy(route, ["name"]);
        r.drop("useHeaderRoutes", "Ramp adds header routes to every HTTPRoute it weights");
        r.done();
        return route;
      });
      if (routes.length) o.httpRoutes = routes;
      gw.drop("configMap", "Ramp keeps no plugin state in a ConfigMap");
      gw.done();
      out.gatewayAPI = o;
    }
    plugins.done("Ramp has no traffic router plugins; its routers are gatewayAPI, istio, nginx and smi");
  }
  for (const [key, name] of Object.entries(NO_ROUTER))
    src.drop(key, `Ramp has no ${name} router; without a router weights are approximated by replica counts`);
  src.drop("maxTrafficWeight", "Ramp weights are percentages (0-100)");
  const routed = Object.keys(out).length > 0;
  if (routed) src.copy(out, ["managedRoutes"]);
  else src.drop("managedRoutes", "header and mirror routes need a traffic router");
  src.done();
  return routed ? out : undefined;
}

const OWN_LABELS = "Ramp labels pods with ramp.dev/pod-template-hash only";
const SCALE_DOWN = "Ramp scales every old ReplicaSet down after scaleDownDelaySeconds";
const AFFINITY = "set affinity in the pod template";
/** Strategy fields both kinds share. */
const STRATEGY_COPIES = ["scaleDownDelaySeconds", "abortScaleDownDelaySeconds"];

const STEP_COPIES = ["setWeight", "setCanaryScale", "setHeaderRoute", "setMirrorRoute"];

function canaryStep(step: Fields): Json | undefined {
  const out: Json = {};
  step.copy(out, STEP_COPIES);
  const pause = step.child("pause");
  if (pause) {
    out.pause = {};
    pause.copy(out.pause as Json, ["duration"]);
    pause.done();
  }
  const analysis = step.child("analysis");
  if (analysis) out.analysis = analysisRefs(analysis);
  step.drop("experiment", "Ramp has no Experiment; use a canary step with setCanaryScale and an analysis step");
  step.drop("plugin", "Ramp has no step plugins; a gate step calls a URL");
  step.done();
  return Object.keys(out).length ? out : undefined;
}

function canary(src: Fields): Json {
  const out: Json = {};
  src.copy(out, ["stableService", "canaryService", "maxSurge", "maxUnavailable", "dynamicStableScale", ...STRATEGY_COPIES]);
  const routing = src.child("trafficRouting");
  if (routing) {
    const r = trafficRouting(routing);
    if (r) out.trafficRouting = r;
  }
  const analysis = src.child("analysis");
  if (analysis) out.analysis = analysisRefs(analysis);
  const steps = src.items("steps").flatMap((s) => {
    if (!out.trafficRouting && (s.has("setHeaderRoute") || s.has("setMirrorRoute"))) {
      s.ignore(Object.keys(s.value));
      report(s.doc, "dropped", s.path, "header and mirror routes need a traffic router");
      return [];
    }
    return canaryStep(s) ?? [];
  });
  if (steps.length) out.steps = steps;
  src.dropEach({
    canaryMetadata: OWN_LABELS,
    stableMetadata: OWN_LABELS,
    scaleDownDelayRevisionLimit: SCALE_DOWN,
    minPodsPerReplicaSet: "Ramp sizes the canary from the weight and setCanaryScale",
    antiAffinity: AFFINITY,
    pingPong: "Ramp has no ping-pong Services; it switches stableService's selector",
  });
  src.done();
  return out;
}

function blueGreen(src: Fields): Json {
  const out: Json = {};
  src.copy(out, [
    "activeService",
    "previewService",
    "previewReplicaCount",
    "autoPromotionEnabled",
    "autoPromotionSeconds",
    ...STRATEGY_COPIES,
  ]);
  for (const key of ["prePromotionAnalysis", "postPromotionAnalysis"]) {
    const a = src.child(key);
    if (a) out[key] = analysisRefs(a);
  }
  src.dropEach({
    previewMetadata: OWN_LABELS,
    activeMetadata: OWN_LABELS,
    scaleDownDelayRevisionLimit: SCALE_DOWN,
    antiAffinity: AFFINITY,
  });
  src.done();
  return out;
}

export function convertRollout(root: Fields): Json[] {
  const spec: Json = {};
  const s = root.child("spec");
  if (s) {
    s.copy(spec, [
      "replicas",
      "selector",
      "template",
      "minReadySeconds",
      "revisionHistoryLimit",
      "progressDeadlineSeconds",
      "progressDeadlineAbort",
      "paused",
      "restartAt",
      "rollbackWindow",
    ]);
    const ref = s.child("workloadRef");
    if (ref) {
      const w: Json = {};
      ref.copy(w, ["apiVersion", "kind", "name", "scaleDown"]);
      ref.done();
      spec.workloadRef = w;
    }
    const strategy = s.child("strategy");
    if (strategy) {
      const st: Json = {};
      const c = strategy.child("canary");
      if (c) st.canary = canary(c);
      const bg = strategy.child("blueGreen");
      if (bg) st.blueGreen = blueGreen(bg);
      strategy.done();
      spec.strategy = st;
    }
    s.drop("analysis", "Ramp keeps every AnalysisRun its Rollout owns until the Rollout goes");
    s.done();
  }
  return [{ apiVersion: API_VERSION, kind: "Rollout", metadata: convertMetadata(root), spec }];
}

/** The condition as CEL; false when it cannot be translated (reported), which leaves the metric out. */
function condition(m: Fields, key: string, out: Json): boolean {
  if (!m.has(key)) {
    m.ignore([key]);
    return true;
  }
  const text = m.value[key];
  const t = typeof text === "string" ? argoConditionToCel(text) : { ok: false as const, why: "not a string" };
  if (!t.ok) {
    m.drop(key, `${JSON.stringify(text)}: ${t.why}; the metric "${String(m.value.name)}" is left out`);
    return false;
  }
  m.get(key);
  out[key] = t.cel;
  m.moved(key, [...m.to, key]);
  return true;
}

function prometheus(src: Fields): Json {
  const out: Json = {};
  const templated = String(src.value.address ?? "").includes("{{");
  if (templated)
    src.drop("address", "Ramp's address is a URL without arguments; without it the controller's --prometheus-url is used");
  src.copy(out, [...(templated ? [] : ["address"]), "query", "timeout", "headers"]);
  src.drop("insecure", "Ramp always verifies TLS; give the controller the CA instead");
  src.drop("authentication", "Ramp authenticates with auth.bearerToken or auth.basic from Secrets");
  src.drop("rangeQuery", "Ramp's range is {window, step} relative to the measurement; set provider.prometheus.range");
  src.done();
  return out;
}

function metric(m: Fields): Json | undefined {
  const provider = m.child("provider");
  const other = Object.keys(provider?.value ?? {}).find((k) => k !== "prometheus");
  if (!provider || other || !provider.has("prometheus")) {
    const why = other ? `Ramp has no ${NO_PROVIDER[other] ?? other} provider yet` : "no prometheus provider";
    m.ignore(Object.keys(m.value));
    m.drop("provider", `${why}: the metric "${String(m.value.name)}" is left out`);
    return undefined;
  }
  const out: Json = {};
  m.copy(out, ["name", "interval", "initialDelay", "dryRun"]);
  for (const key of ["count", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit", "consecutiveSuccessLimit"])
    integer(m, key, out);
  const translated = [condition(m, "successCondition", out), condition(m, "failureCondition", out)];
  if (translated.includes(false)) {
    m.ignore(Object.keys(m.value));
    m.done();
    return undefined;
  }
  // Argo counts a measurement with no condition as successful; Ramp wants the condition written.
  if (out.successCondition === undefined && out.failureCondition === undefined) out.successCondition = "true";
  out.provider = { prometheus: prometheus(provider.child("prometheus", [...m.to, "provider", "prometheus"]) as Fields) };
  provider.done();
  m.done();
  return out;
}

function templateArgs(src: Fields): Json[] {
  return src.items("args").map((a) => {
    const arg: Json = {};
    a.copy(arg, ["name", "value"]);
    const from = a.child("valueFrom");
    if (from) {
      const valueFrom: Json = {};
      from.copy(valueFrom, ["secretKeyRef", "fieldRef", "podTemplateHashValue"]);
      from.done();
      arg.valueFrom = valueFrom;
    }
    a.done();
    return arg;
  });
}

/** AnalysisTemplate and ClusterAnalysisTemplate share a spec; AnalysisRun adds terminate. */
export function convertAnalysis(root: Fields, kind: string): Json[] {
  const spec: Json = {};
  const s = root.child("spec");
  if (s) {
    const args = templateArgs(s);
    if (args.length) spec.args = args;
    spec.metrics = s.items("metrics").flatMap((m) => metric(m) ?? []);
    s.copy(spec, ["dryRun", "measurementRetention", ...(kind === "AnalysisRun" ? ["terminate"] : [])]);
    s.done();
  }
  const converted = { apiVersion: API_VERSION, kind, metadata: convertMetadata(root), spec };
  if ((spec.metrics as Json[] | undefined)?.length) return [converted];
  root.note("", `${kind} left out: none of its metrics can be converted`);
  return [];
}
