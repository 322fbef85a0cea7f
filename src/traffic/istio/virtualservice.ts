// Pure: what Ramp writes into an Istio VirtualService and DestinationRule. In host mode the weighted
// http routes send traffic to the stable and canary Services; in subset mode to one Service's two
// DestinationRule subsets, which Ramp labels with the pod-template hashes. Header and mirror routes
// are http routes Ramp puts ahead of the user's (Istio takes the first match), named
// `ramp-managed-<route>`. Everything else stays as it is.

import type { DesiredTraffic, HeaderRoute, MirrorRoute } from "../../api/desired-traffic.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../../api/pod-template-hash.ts";
import { isManaged, type MirrorMatch, managedName, type StringMatch } from "../managed.ts";
import { RouterError } from "../router.ts";

export interface Destination {
  destination: { host: string; subset?: string; [key: string]: unknown };
  weight?: number;
  [key: string]: unknown;
}

export interface HTTPMatch {
  headers?: Record<string, StringMatch>;
  uri?: StringMatch;
  method?: StringMatch;
  [key: string]: unknown;
}

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatch[];
  route?: Destination[];
  mirror?: Destination["destination"];
  mirrorPercentage?: { value: number };
  [key: string]: unknown;
}

export interface VirtualServiceSpec {
  http?: HTTPRoute[];
  [key: string]: unknown;
}

export interface DestinationRuleSpec {
  subsets?: { name: string; labels?: Record<string, string>; [key: string]: unknown }[];
  [key: string]: unknown;
}

/** Which destinations are stable and canary: two Services (host mode) or two subsets. */
export interface Targets {
  mode: "host" | "subset";
  stable: string;
  canary: string;
}

export interface VirtualServiceConfig {
  name: string;
  /** Named http routes to weight; none: every route to the stable or canary destination. */
  routes?: string[];
  targets: Targets;
}

/** `svc`, `svc.ns` or `svc.ns.svc.cluster.local` -> `svc`. */
const serviceOf = (host: string) => host.split(".")[0] ?? host;

function role(d: Destination, t: Targets): "stable" | "canary" | undefined {
  const key = t.mode === "host" ? serviceOf(d.destination.host) : d.destination.subset;
  return key === t.stable ? "stable" : key === t.canary ? "canary" : undefined;
}

/** The other destination, made from the one the user listed. */
function sibling(d: Destination, t: Targets, as: "stable" | "canary"): Destination {
  const { host } = d.destination;
  const dot = host.indexOf(".");
  return {
    ...d,
    destination:
      t.mode === "host"
        ? { ...d.destination, host: `${t[as]}${dot < 0 ? "" : host.slice(dot)}` }
        : { ...d.destination, subset: t[as] },
  };
}

function weighted(route: HTTPRoute, t: Targets, weight: number): HTTPRoute {
  const list = route.route ?? [];
  const listed = list.find((d) => role(d, t)) as Destination;
  const missing = (["stable", "canary"] as const).filter((r) => !list.some((d) => role(d, t) === r));
  return {
    ...route,
    route: [...list, ...missing.map((r) => sibling(listed, t, r))].map((d) => {
      const r = role(d, t);
      return r ? { ...d, weight: r === "canary" ? weight : 100 - weight } : d;
    }),
  };
}

const lowerKeys = (h: Record<string, StringMatch>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

function headerRoute(r: HeaderRoute, base: HTTPRoute, matches: HTTPMatch[], canary: Destination): HTTPRoute {
  const headers = lowerKeys(Object.fromEntries(r.match.map((m) => [m.headerName, m.headerValue])));
  return {
    ...base,
    name: managedName(r.name),
    match: matches.map((m) => ({ ...m, headers: { ...m.headers, ...headers } })),
    route: [{ ...canary, weight: 100 }],
  };
}

function narrowed(base: HTTPMatch, m: MirrorMatch): HTTPMatch {
  const headers = lowerKeys(m.headers ?? {});
  return {
    ...base,
    ...(m.path ? { uri: m.path } : {}),
    ...(m.method ? { method: m.method } : {}),
    ...(Object.keys(headers).length ? { headers: { ...base.headers, ...headers } } : {}),
  };
}

function mirrorRoute(r: MirrorRoute, base: HTTPRoute, matches: HTTPMatch[], canary: Destination): HTTPRoute {
  const { mirrors: _ms, ...rest } = base;
  return {
    ...rest,
    name: managedName(r.name),
    match: matches.flatMap((b) => r.match.map((m) => narrowed(b, m))),
    // Answered by the usual split; a copy goes to the canary.
    mirror: canary.destination,
    mirrorPercentage: { value: r.percentage },
  };
}

export function desiredVirtualService(
  spec: VirtualServiceSpec,
  config: VirtualServiceConfig,
  desired: DesiredTraffic,
): VirtualServiceSpec {
  const { targets } = config;
  const user = (spec.http ?? []).filter((r) => !isManaged(r.name));
  for (const name of config.routes ?? []) {
    if (!user.some((r) => r.name === name)) {
      throw new RouterError("NOT_FOUND", `VirtualService "${config.name}" has no http route named "${name}"`);
    }
  }
  const chosen = (r: HTTPRoute) =>
    config.routes?.length ? config.routes.includes(r.name ?? "") : (r.route ?? []).some((d) => role(d, targets));
  const what = targets.mode === "host" ? "Service" : "subset";
  for (const r of user.filter((r) => config.routes?.includes(r.name ?? ""))) {
    if (!(r.route ?? []).some((d) => role(d, targets))) {
      throw new RouterError(
        "NO_BACKENDS",
        `http route "${r.name}" of VirtualService "${config.name}" routes to neither ${what} "${targets.stable}" nor "${targets.canary}"`,
      );
    }
  }
  const http = user.map((r) => (chosen(r) ? weighted(r, targets, desired.weight) : r));
  const mains = http.filter(chosen);
  const base = mains[0];
  if (!base) {
    throw new RouterError(
      "NO_BACKENDS",
      `VirtualService "${config.name}" has no http route to ${what} "${targets.stable}" or "${targets.canary}"`,
    );
  }
  const canary = (base.route ?? []).find((d) => role(d, targets) === "canary") as Destination;
  const matches = mains.flatMap((r) => (r.match?.length ? r.match : [{}]));
  const managed = [
    ...desired.headerRoutes.map((r) => headerRoute(r, base, matches, canary)),
    ...desired.mirrorRoutes.map((r) => mirrorRoute(r, base, matches, canary)),
  ];
  return { ...spec, http: [...managed, ...http] };
}

/** Subset mode: the subsets select pods by pod-template hash. The canary subset follows the new
 * pods only while it gets traffic (which the planner gives once they are available); otherwise it
 * selects the stable pods, so it never names pods that are going away. */
export function desiredDestinationRule(
  spec: DestinationRuleSpec,
  subsets: { stable: string; canary: string },
  desired: DesiredTraffic,
): DestinationRuleSpec {
  const routed = desired.weight > 0 || desired.headerRoutes.length > 0 || desired.mirrorRoutes.length > 0;
  const hashes = { [subsets.stable]: desired.stableHash, [subsets.canary]: routed ? desired.canaryHash : desired.stableHash };
  type Subset = NonNullable<DestinationRuleSpec["subsets"]>[number];
  const list = spec.subsets ?? [];
  const missing = [subsets.stable, subsets.canary]
    .filter((n) => !list.some((s) => s.name === n))
    .map((name): Subset => ({ name }));
  return {
    ...spec,
    subsets: [...list, ...missing].map((s) => {
      const hash = hashes[s.name];
      return hash === undefined ? s : { ...s, labels: { ...s.labels, [POD_TEMPLATE_HASH_LABEL]: hash } };
    }),
  };
}
