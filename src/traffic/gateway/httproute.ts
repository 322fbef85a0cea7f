// Pure: what Ramp writes into a Gateway API HTTPRoute or GRPCRoute (gateway.networking.k8s.io/v1),
// whose rules, backendRefs, header matches and mirror filters have the same shape. The user's rules
// that point at the stable or canary Service get their weights; header and mirror routes are rules
// Ramp adds ahead of them, named `ramp-managed-<route>` so that only they are ever removed.
// Everything else in the object (parentRefs, hostnames, other rules and backends, fields of other
// writers) stays as it is.

import type { DesiredTraffic, HeaderRoute, MirrorRoute } from "../../api/desired-traffic.ts";
import { asRegex, isManaged, type MirrorMatch, managedName, type StringMatch } from "../managed.ts";
import { RouterError } from "../router.ts";

export interface BackendRef {
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
  [key: string]: unknown;
}

interface HeaderMatch {
  name: string;
  value: string;
  type: "Exact" | "RegularExpression";
}

export interface RouteMatch {
  path?: { type: string; value: string };
  /** An HTTP method on an HTTPRoute; a gRPC service and method on a GRPCRoute. */
  method?: string | { type?: string; service?: string; method?: string };
  headers?: HeaderMatch[];
  [key: string]: unknown;
}

export interface Rule {
  name?: string;
  matches?: RouteMatch[];
  backendRefs?: BackendRef[];
  filters?: Record<string, unknown>[];
  [key: string]: unknown;
}

export interface HTTPRouteSpec {
  rules?: Rule[];
  [key: string]: unknown;
}

export interface RouteStatus {
  parents?: { conditions?: { type: string; status: string; observedGeneration?: number }[] }[];
}

export type RouteKind = "HTTPRoute" | "GRPCRoute";

/** The route being written, for the refusals that name it. */
export interface RouteRef {
  kind: RouteKind;
  name: string;
}

/** Gateway API's bounds on a route (both kinds), checked here so that a refusal names the managed
 * routes that would break them rather than failing the write on a CEL rule. */
export const MAX_RULES = 16;
export const MAX_RULE_MATCHES = 64;
export const MAX_ROUTE_MATCHES = 128;

export interface Services {
  stable: string;
  canary: string;
}

/** Gateway API header matches know Exact and RegularExpression; a prefix becomes a regex. */
function headerMatch(name: string, m: StringMatch): HeaderMatch {
  if (m.exact !== undefined) return { name, value: m.exact, type: "Exact" };
  return { name, value: asRegex(m), type: "RegularExpression" };
}

function pathMatch(m: StringMatch): { type: string; value: string } {
  if (m.exact !== undefined) return { type: "Exact", value: m.exact };
  if (m.prefix !== undefined) return { type: "PathPrefix", value: m.prefix };
  return { type: "RegularExpression", value: m.regex ?? "" };
}

function methodMatch(m: StringMatch, mirror: string): string {
  if (m.exact === undefined) {
    throw new RouterError(
      "UNSUPPORTED",
      `HTTPRoute method matches are exact; setMirrorRoute "${mirror}" asks for a prefix or regex`,
    );
  }
  return m.exact.toUpperCase();
}

/** A GRPCRoute matches gRPC services and methods, not HTTP paths and methods: only header
 * matches of a mirror route carry over. */
function refuseHttpOnly(m: MirrorMatch, mirror: string, route: RouteRef): void {
  if (route.kind === "GRPCRoute" && (m.path || m.method)) {
    throw new RouterError(
      "UNSUPPORTED",
      `GRPCRoute "${route.name}" matches gRPC methods, not HTTP paths or methods; setMirrorRoute "${mirror}" can match headers only there`,
    );
  }
}

const ours = (ref: BackendRef, services: Services) => ref.name === services.stable || ref.name === services.canary;
const pointsAt = (rule: Rule, services: Services) => (rule.backendRefs ?? []).some((b) => ours(b, services));

/** The rule with its stable and canary weights set; one listed alone gets the other beside it. */
function weighted(rule: Rule, services: Services, weight: number): Rule {
  const refs = rule.backendRefs ?? [];
  const listed = refs.find((b) => ours(b, services)) as BackendRef;
  const missing = [services.stable, services.canary].filter((name) => !refs.some((b) => b.name === name));
  return {
    ...rule,
    backendRefs: [...refs, ...missing.map((name) => ({ ...listed, name }))].map((b) =>
      b.name === services.canary ? { ...b, weight } : b.name === services.stable ? { ...b, weight: 100 - weight } : b,
    ),
  };
}

/** Each match of the user's rules, as the base a managed rule narrows (no matches: all requests). */
const baseMatches = (rules: Rule[]): RouteMatch[] => rules.flatMap((r) => (r.matches?.length ? r.matches : [{}]));

function headerRule(route: HeaderRoute, base: Rule, matches: RouteMatch[], canary: BackendRef): Rule {
  const headers = route.match.map((m) => headerMatch(m.headerName, m.headerValue));
  return {
    ...base,
    name: managedName(route.name),
    matches: matches.map((m) => ({ ...m, headers: [...(m.headers ?? []), ...headers] })),
    backendRefs: [{ ...canary, weight: 100 }],
  };
}

function narrowed(base: RouteMatch, m: MirrorMatch, mirror: string, route: RouteRef): RouteMatch {
  refuseHttpOnly(m, mirror, route);
  const headers = Object.entries(m.headers ?? {}).map(([name, v]) => headerMatch(name, v));
  return {
    ...base,
    ...(m.path ? { path: pathMatch(m.path) } : {}),
    ...(m.method ? { method: methodMatch(m.method, mirror) } : {}),
    ...(headers.length || base.headers ? { headers: [...(base.headers ?? []), ...headers] } : {}),
  };
}

function mirrorRule(mirror: MirrorRoute, base: Rule, matches: RouteMatch[], canary: BackendRef, route: RouteRef): Rule {
  const { weight: _w, ...target } = canary;
  return {
    ...base,
    name: managedName(mirror.name),
    matches: matches.flatMap((b) => mirror.match.map((m) => narrowed(b, m, mirror.name, route))),
    // Mirrored requests are still answered by the usual split; a copy goes to the canary.
    filters: [
      ...(base.filters ?? []).filter((f) => f.type !== "RequestMirror"),
      {
        type: "RequestMirror",
        // Percent is recent Gateway API; leaving it out at 100% keeps older implementations working.
        requestMirror: { backendRef: target, ...(mirror.percentage < 100 ? { percent: mirror.percentage } : {}) },
      },
    ],
  };
}

/** Refuses a route over Gateway API's bounds, naming what Ramp added. */
function withinBounds(rules: Rule[], managed: number, route: RouteRef): void {
  const matches = rules.map((r) => r.matches?.length ?? 0);
  const total = matches.reduce((a, b) => a + b, 0);
  const over =
    rules.length > MAX_RULES
      ? `${rules.length} rules (at most ${MAX_RULES})`
      : Math.max(...matches) > MAX_RULE_MATCHES
        ? `a rule with ${Math.max(...matches)} matches (at most ${MAX_RULE_MATCHES})`
        : total > MAX_ROUTE_MATCHES
          ? `${total} matches in all (at most ${MAX_ROUTE_MATCHES})`
          : undefined;
  if (over) {
    throw new RouterError(
      "UNSUPPORTED",
      `${route.kind} "${route.name}" would have ${over} with Ramp's ${managed} header and mirror rules; Gateway API refuses that: ` +
        "use fewer matches in the route or in the steps",
    );
  }
}

/** The route's spec routing as desired: managed rules first (header routes, then mirrors), then the
 * user's rules with their weights set. */
export function desiredSpec(spec: HTTPRouteSpec, services: Services, desired: DesiredTraffic, route: RouteRef): HTTPRouteSpec {
  const user = (spec.rules ?? []).filter((r) => !isManaged(r.name));
  const rules = user.map((r) => (pointsAt(r, services) ? weighted(r, services, desired.weight) : r));
  const mains = rules.filter((r) => pointsAt(r, services));
  const base = mains[0];
  const canary = base?.backendRefs?.find((b) => b.name === services.canary);
  if (!base || !canary) {
    throw new RouterError(
      "NO_BACKENDS",
      `${route.kind} "${route.name}" has no rule with backendRefs to "${services.stable}" or "${services.canary}"; list both Services in a rule`,
    );
  }
  const matches = baseMatches(mains);
  const managed = [
    ...desired.headerRoutes.map((r) => headerRule(r, base, matches, canary)),
    ...desired.mirrorRoutes.map((r) => mirrorRule(r, base, matches, canary, route)),
  ];
  if (managed.length) withinBounds([...managed, ...rules], managed.length, route);
  return { ...spec, rules: [...managed, ...rules] };
}

/** true once every parent (Gateway) accepted this generation, false when one refused it, undefined
 * while one has not reported on it (or none reports at all: nothing to verify with). */
export function accepted(status: RouteStatus | undefined, generation: number | undefined): boolean | undefined {
  const verdicts = (status?.parents ?? []).map((p) => {
    const c = p.conditions?.find((c) => c.type === "Accepted");
    const current = c && (generation === undefined || c.observedGeneration === undefined || c.observedGeneration >= generation);
    return current ? c.status === "True" : undefined;
  });
  if (verdicts.includes(false)) return false;
  return verdicts.length && verdicts.every((v) => v === true) ? true : undefined;
}
