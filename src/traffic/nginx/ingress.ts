// Pure: the canary Ingress Ramp generates beside each of the user's Ingresses for ingress-nginx.
// It routes the same hosts and paths to the canary Service, and its annotations (`canary`,
// `canary-weight`, `canary-by-header...`) say how much. The user's Ingress is never changed; the
// canary Ingress belongs to the Rollout, so it goes when the Rollout goes.

import type { DesiredTraffic } from "../../api/desired-traffic.ts";
import type { OwnerReference } from "../../api/owner-reference.ts";
import type { KubeObject } from "../../kube/client.ts";
import { asRegex } from "../managed.ts";
import { RouterError } from "../router.ts";

interface BackendService {
  service?: { name: string; port?: Record<string, unknown> };
  [key: string]: unknown;
}

interface IngressRule {
  host?: string;
  http?: { paths?: { path?: string; pathType?: string; backend?: BackendService; [key: string]: unknown }[] };
  [key: string]: unknown;
}

export type Ingress = KubeObject & {
  metadata: { name?: string; annotations?: Record<string, string>; ownerReferences?: OwnerReference[] };
  spec?: { rules?: IngressRule[]; defaultBackend?: BackendService; [key: string]: unknown };
};

export interface CanaryConfig {
  /** e.g. `nginx.ingress.kubernetes.io` */
  annotationPrefix: string;
  /** Extra annotations; a key without a `/` is put under the prefix (as Argo Rollouts does). */
  additionalAnnotations?: Record<string, string>;
  services: { stable: string; canary: string };
  owner: OwnerReference;
}

export const canaryIngressName = (rollout: string, ingress: string) => `${rollout}-${ingress}-canary`;

/** The annotations Ramp owns on a canary Ingress: every `<prefix>/canary*`. */
const owned = (key: string, prefix: string) => key.startsWith(`${prefix}/canary`);

function canaryAnnotations(config: CanaryConfig, desired: DesiredTraffic): Record<string, string> {
  const p = config.annotationPrefix;
  const mirror = desired.mirrorRoutes[0];
  if (mirror) {
    throw new RouterError("UNSUPPORTED", `the NGINX Ingress router cannot mirror requests (setMirrorRoute "${mirror.name}")`);
  }
  const matches = desired.headerRoutes.flatMap((r) => r.match.map((m) => ({ route: r.name, ...m })));
  if (matches.length > 1) {
    throw new RouterError(
      "UNSUPPORTED",
      `an NGINX canary Ingress matches one header; setHeaderRoute ${[...new Set(matches.map((m) => `"${m.route}"`))].join(", ")} ask for ${matches.length}`,
    );
  }
  const header = matches[0];
  const extra = Object.entries(config.additionalAnnotations ?? {}).map(([k, v]) => [k.includes("/") ? k : `${p}/${k}`, v]);
  return {
    ...Object.fromEntries(extra),
    [`${p}/canary`]: "true",
    [`${p}/canary-weight`]: String(desired.weight),
    ...(header ? { [`${p}/canary-by-header`]: header.headerName } : {}),
    ...(header?.headerValue.exact !== undefined
      ? { [`${p}/canary-by-header-value`]: header.headerValue.exact }
      : header
        ? { [`${p}/canary-by-header-pattern`]: asRegex(header.headerValue) }
        : {}),
  };
}

/** The stable Ingress's spec with the stable Service's backends turned to the canary's; paths to
 * other Services are left out (they keep no canary). */
function canarySpec(stable: Ingress, services: CanaryConfig["services"]): NonNullable<Ingress["spec"]> {
  const turn = (b: BackendService | undefined): BackendService | undefined =>
    b?.service?.name === services.stable ? { ...b, service: { ...b.service, name: services.canary } } : undefined;
  const { rules, defaultBackend, ...rest } = stable.spec ?? {};
  const canaryRules = (rules ?? []).flatMap((rule) => {
    const paths = (rule.http?.paths ?? []).flatMap((path) => {
      const backend = turn(path.backend);
      return backend ? [{ ...path, backend }] : [];
    });
    return paths.length ? [{ ...rule, http: { ...rule.http, paths } }] : [];
  });
  const canaryDefault = turn(defaultBackend);
  if (!canaryRules.length && !canaryDefault) {
    throw new RouterError("NO_BACKENDS", `Ingress "${stable.metadata.name}" has no backend for Service "${services.stable}"`);
  }
  return {
    ...rest,
    ...(canaryRules.length ? { rules: canaryRules } : {}),
    ...(canaryDefault ? { defaultBackend: canaryDefault } : {}),
  };
}

/** The canary Ingress for `stable` as desired, keeping what other writers put on an existing one
 * (labels, annotations outside Ramp's). */
export function desiredCanaryIngress(
  stable: Ingress,
  existing: Ingress | undefined,
  name: string,
  config: CanaryConfig,
  desired: DesiredTraffic,
): Ingress {
  const owners = existing?.metadata.ownerReferences ?? [];
  if (existing && !owners.some((o) => o.uid === config.owner.uid)) {
    throw new RouterError(
      "NOT_OWNED",
      `Ingress "${name}" in namespace "${stable.metadata.namespace}" exists and does not belong to Rollout "${config.owner.name}"`,
    );
  }
  const kept = Object.entries(existing?.metadata.annotations ?? {}).filter(([k]) => !owned(k, config.annotationPrefix));
  // The legacy class annotation chooses the controller, as ingressClassName (kept in the spec) does.
  const ingressClass = stable.metadata.annotations?.["kubernetes.io/ingress.class"];
  return {
    ...existing,
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      ...existing?.metadata,
      name,
      namespace: stable.metadata.namespace,
      annotations: {
        ...Object.fromEntries(kept),
        ...(ingressClass ? { "kubernetes.io/ingress.class": ingressClass } : {}),
        ...canaryAnnotations(config, desired),
      },
      ownerReferences: existing ? owners : [config.owner],
    },
    spec: canarySpec(stable, config.services),
  };
}
