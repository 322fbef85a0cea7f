// Pure: routing objects (HTTPRoute, VirtualService + DestinationRule, NGINX Ingresses, SMI
// TrafficSplit) -> hosts with ordered routes, and where one simulated request goes. What each
// router does with a request is modelled here, once, so the simulator and its tests agree.

export type Source = "gateway" | "istio" | "nginx" | "smi";

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface Backend {
  service: string;
  namespace: string;
  /** Istio subset: only pods with these labels, on top of the Service's selector. */
  subsetLabels?: Record<string, string>;
}

export interface Destination extends Backend {
  weight: number;
  /** nginx: the canary Ingress that sent it here. */
  canaryIngress?: string;
}

export interface Route {
  /** Header name -> match; every one must match. None matches every request. */
  headers: Record<string, StringMatch>;
  destinations: Destination[];
  mirror?: Backend & { percent: number };
}

export interface Host {
  /** `kind/namespace/name` of the object that defines it. */
  id: string;
  source: Source;
  namespace: string;
  /** nginx: the user's Ingress; metrics carry it. */
  ingress?: string;
  /** First matching route wins. */
  routes: Route[];
}

interface Meta {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
}
interface Ref {
  name: string;
  namespace?: string;
}
/** The parts of each routing object the simulator reads. */
export interface HTTPRouteObject extends Meta {
  spec?: {
    rules?: {
      matches?: { headers?: { name: string; value: string; type?: string }[] }[];
      backendRefs?: (Ref & { weight?: number })[];
      filters?: {
        type: string;
        requestMirror?: { backendRef: Ref; percent?: number; fraction?: { numerator: number; denominator?: number } };
      }[];
    }[];
  };
}
interface IstioDestination {
  host: string;
  subset?: string;
}
export interface VirtualServiceObject extends Meta {
  spec?: {
    http?: {
      match?: { headers?: Record<string, StringMatch> }[];
      route?: { destination: IstioDestination; weight?: number }[];
      mirror?: IstioDestination;
      mirrorPercentage?: { value: number };
    }[];
  };
}
export interface DestinationRuleObject extends Meta {
  spec?: { host?: string; subsets?: { name: string; labels?: Record<string, string> }[] };
}
export interface IngressObject extends Meta {
  spec?: {
    rules?: { host?: string; http?: { paths?: { backend?: { service?: { name: string } } }[] } }[];
    defaultBackend?: { service?: { name: string } };
  };
}
export interface TrafficSplitObject extends Meta {
  spec?: { service?: string; backends?: { service: string; weight?: number | string }[] };
}

export function matches(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.regex !== undefined) return new RegExp(`^(?:${m.regex})$`).test(value);
  return true;
}

export const routeMatches = (route: Route, headers: Record<string, string>) =>
  Object.entries(route.headers).every(([name, m]) => matches(m, headers[name.toLowerCase()]));

/** A value that satisfies the match, for requests that should take a header route. */
export function sampleValue(m: StringMatch): string {
  if (m.exact !== undefined) return m.exact;
  if (m.prefix !== undefined) return `${m.prefix}sim`;
  // A regex is satisfied by trying its literal text; good enough for `1|true` style patterns.
  return (m.regex ?? "").split("|")[0]?.replace(/[\\^$.*+?()[\]{}]/g, "") ?? "";
}

const lower = (h: Record<string, StringMatch>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

export function httpRouteHost(route: HTTPRouteObject): Host {
  const ns = route.metadata.namespace ?? "default";
  const routes = (route.spec?.rules ?? []).flatMap((rule): Route[] => {
    const destinations: Destination[] = (rule.backendRefs ?? []).map((b) => ({
      service: b.name,
      namespace: b.namespace ?? ns,
      weight: b.weight ?? 1,
    }));
    const mirrorFilter = (rule.filters ?? []).find((f) => f.type === "RequestMirror")?.requestMirror;
    const mirror = mirrorFilter
      ? {
          service: mirrorFilter.backendRef.name,
          namespace: mirrorFilter.backendRef.namespace ?? ns,
          percent:
            mirrorFilter.percent ??
            (mirrorFilter.fraction ? (100 * mirrorFilter.fraction.numerator) / (mirrorFilter.fraction.denominator ?? 100) : 100),
        }
      : undefined;
    const matchList = rule.matches?.length ? rule.matches : [{ headers: [] }];
    return matchList.map((m) => ({
      headers: lower(
        Object.fromEntries(
          (m.headers ?? []).map((h) => [h.name, h.type === "RegularExpression" ? { regex: h.value } : { exact: h.value }]),
        ),
      ),
      destinations,
      ...(mirror ? { mirror } : {}),
    }));
  });
  // Gateway API: among matching rules the one with more header matches wins.
  routes.sort((a, b) => Object.keys(b.headers).length - Object.keys(a.headers).length);
  return { id: `HTTPRoute/${ns}/${route.metadata.name}`, source: "gateway", namespace: ns, routes };
}

/** `svc`, `svc.ns` or `svc.ns.svc.cluster.local` -> service and namespace. */
function istioHost(host: string, ns: string): { service: string; namespace: string } {
  const [service = host, namespace = ns] = host.split(".");
  return { service, namespace };
}

export function virtualServiceHost(vs: VirtualServiceObject, destinationRules: DestinationRuleObject[]): Host {
  const ns = vs.metadata.namespace ?? "default";
  const subsetLabels = (service: string, namespace: string, subset?: string) => {
    if (!subset) return undefined;
    const rule = destinationRules.find((d) => {
      const h = istioHost(d.spec?.host ?? "", d.metadata.namespace ?? "default");
      return h.service === service && h.namespace === namespace;
    });
    return rule?.spec?.subsets?.find((s) => s.name === subset)?.labels ?? { "ramp.dev/no-such-subset": subset };
  };
  const backend = (dest: IstioDestination): Backend => {
    const { service, namespace } = istioHost(dest.host, ns);
    const labels = subsetLabels(service, namespace, dest.subset);
    return { service, namespace, ...(labels ? { subsetLabels: labels } : {}) };
  };
  const routes = (vs.spec?.http ?? []).flatMap((http): Route[] => {
    const list = http.route ?? [];
    const destinations: Destination[] = list.map((r) => ({
      ...backend(r.destination),
      weight: r.weight ?? (list.length === 1 ? 100 : 0),
    }));
    const mirror = http.mirror ? { ...backend(http.mirror), percent: http.mirrorPercentage?.value ?? 100 } : undefined;
    const matchList = http.match?.length ? http.match : [{}];
    return matchList.map((m) => ({ headers: lower(m.headers ?? {}), destinations, ...(mirror ? { mirror } : {}) }));
  });
  return { id: `VirtualService/${ns}/${vs.metadata.name}`, source: "istio", namespace: ns, routes };
}

/** The annotation prefix of an NGINX canary Ingress (`<prefix>/canary: "true"`), if it is one. */
export function canaryPrefix(ingress: IngressObject): string | undefined {
  const entry = Object.entries(ingress.metadata.annotations ?? {}).find(([k, v]) => k.endsWith("/canary") && v === "true");
  return entry?.[0].slice(0, -"/canary".length);
}

const ingressBackend = (ingress: IngressObject): string | undefined =>
  ingress.spec?.rules?.[0]?.http?.paths?.[0]?.backend?.service?.name ?? ingress.spec?.defaultBackend?.service?.name;

const ingressHost = (ingress: IngressObject): string => ingress.spec?.rules?.[0]?.host ?? "";

/** One host per stable Ingress; canary Ingresses for the same host and namespace add routes. */
export function nginxHosts(ingresses: IngressObject[]): Host[] {
  const stable = ingresses.filter((i) => !canaryPrefix(i));
  return stable.flatMap((s): Host[] => {
    const ns = s.metadata.namespace ?? "default";
    const stableService = ingressBackend(s);
    if (!stableService) return [];
    const canary = ingresses.find(
      (i) => canaryPrefix(i) && (i.metadata.namespace ?? "default") === ns && ingressHost(i) === ingressHost(s),
    );
    const stableDest: Destination = { service: stableService, namespace: ns, weight: 100 };
    const routes: Route[] = [];
    const canaryService = canary && ingressBackend(canary);
    if (canary && canaryService) {
      const prefix = canaryPrefix(canary);
      const a = canary.metadata.annotations ?? {};
      const toCanary: Destination = { service: canaryService, namespace: ns, weight: 100, canaryIngress: canary.metadata.name };
      const header = a[`${prefix}/canary-by-header`]?.toLowerCase();
      if (header) {
        const value = a[`${prefix}/canary-by-header-value`];
        routes.push({ headers: { [header]: { exact: value ?? "always" } }, destinations: [toCanary] });
        if (!value) routes.push({ headers: { [header]: { exact: "never" } }, destinations: [stableDest] });
      }
      const weight = Math.min(100, Math.max(0, Number(a[`${prefix}/canary-weight`] ?? 0)));
      routes.push({
        headers: {},
        destinations: [
          { ...stableDest, weight: 100 - weight },
          { ...toCanary, weight },
        ],
      });
    } else routes.push({ headers: {}, destinations: [stableDest] });
    return [{ id: `Ingress/${ns}/${s.metadata.name}`, source: "nginx", namespace: ns, ingress: s.metadata.name, routes }];
  });
}

export function trafficSplitHost(split: TrafficSplitObject): Host {
  const ns = split.metadata.namespace ?? "default";
  const destinations: Destination[] = (split.spec?.backends ?? []).map((b) => ({
    service: b.service,
    namespace: ns,
    weight: Number(b.weight ?? 0),
  }));
  return {
    id: `TrafficSplit/${ns}/${split.metadata.name}`,
    source: "smi",
    namespace: ns,
    routes: [{ headers: {}, destinations }],
  };
}

/** Where one request goes: the first matching route, then a destination by weight (`pick` in [0,1)).
 * Undefined when no route matches or every weight is zero (the router answers it itself). */
export function choose(
  host: Host,
  headers: Record<string, string>,
  pick: number,
): { route: Route; destination: Destination } | undefined {
  const route = host.routes.find((r) => routeMatches(r, headers));
  if (!route) return undefined;
  const total = route.destinations.reduce((s, d) => s + d.weight, 0);
  if (total <= 0) return undefined;
  let at = pick * total;
  for (const destination of route.destinations) {
    if (at < destination.weight) return { route, destination };
    at -= destination.weight;
  }
  return { route, destination: route.destinations[route.destinations.length - 1] as Destination };
}

/** The header sets the simulator sends: plain requests, and for each header route a request that
 * matches it, sent with share `headerShare` each. */
export function requestKinds(host: Host, headerShare: number): { headers: Record<string, string>; share: number }[] {
  const special = host.routes
    .filter((r) => Object.keys(r.headers).length > 0)
    .map((r) => ({
      headers: Object.fromEntries(Object.entries(r.headers).map(([k, m]) => [k, sampleValue(m)])),
      share: headerShare,
    }));
  const rest = Math.max(0, 1 - special.length * headerShare);
  return [{ headers: {}, share: rest }, ...special];
}
