// Pure: what the coordinator reads from and writes to a member cluster. A member's credentials come
// from a kubeconfig held in a Secret and stay in memory; what the coordinator changes in a member is
// its Rollout's template, marked with annotations that make every change idempotent and undoable.
import type { Code } from "../api/codes.ts";
import type { FleetRolloutSpec } from "../api/fleet.ts";
import { podTemplateHash } from "../api/pod-template-hash.ts";
import type { RolloutStatus } from "../api/rollout.ts";
import type { KubeObject } from "../kube/client.ts";
import { type ClusterAccess, clusterAccess, parseKubeconfig } from "../kube/kubeconfig.ts";
import type { Meta } from "../rollout/objects.ts";
import type { MemberView } from "./plan.ts";

/** On a Secret in the FleetRollout's namespace: it holds the kubeconfig (key `kubeconfig`) of the
 * member named by the value. The label is the Secret's opt-in: no other Secret is read. */
export const FLEET_MEMBER_LABEL = "ramp.dev/fleet-member";
export const KUBECONFIG_KEY = "kubeconfig";
/** On a member's Rollout: the fleet revision its template carries. */
export const FLEET_REVISION_ANNOTATION = "ramp.dev/fleet-revision";
/** On a member's Rollout: its template before the coordinator changed it (JSON), for rollback. */
export const PREVIOUS_TEMPLATE_ANNOTATION = "ramp.dev/fleet-previous-template";
/** On a member's Rollout: the fleet revision it was rolled back from. */
export const ROLLED_BACK_ANNOTATION = "ramp.dev/fleet-rolled-back";

export type MemberRollout = KubeObject & {
  metadata: Meta;
  spec: { template?: Template; [key: string]: unknown };
  status?: RolloutStatus;
};
type Template = { metadata?: Record<string, unknown>; spec: { containers: { name: string; image: string }[] } };

/** The revision a FleetRollout releases: what it sets, and where. */
export const fleetRevision = (spec: FleetRolloutSpec): string =>
  podTemplateHash({ rolloutRef: spec.rolloutRef, template: spec.template ?? null, image: spec.image ?? null });

/** A member's access from its kubeconfig text. Only inline material is accepted: a kubeconfig in a
 * tenant's Secret must not make the coordinator read its own files (a token file, a key) or run a
 * program (an exec plugin). Throws an Error saying what is refused. */
export function memberAccess(kubeconfig: string): ClusterAccess {
  // No folder: relative paths would resolve against it, and every path is refused below anyway.
  const access = clusterAccess(parseKubeconfig(kubeconfig, "/nonexistent"));
  const files = (["ca", "clientCert", "clientKey"] as const).filter((k) => {
    const m = access[k];
    return m !== undefined && "file" in m;
  });
  if (files.length) throw new Error(`the kubeconfig names files (${files.join(", ")}); use the *-data fields`);
  if (access.credential.kind === "exec" || access.credential.kind === "tokenFile") {
    throw new Error(
      `the kubeconfig's user needs ${access.credential.kind === "exec" ? "an exec plugin" : "a token file"}; use a token or a client certificate inline`,
    );
  }
  return access;
}

/** Why a member could not be used: a code from the catalogue, and what failed. */
export interface MemberProblem {
  code: Code;
  message: string;
}

/** A failed call to a member's apiserver as a problem: the apiserver's refusals by their status, a
 * refused destination by its code, anything else (refused, reset, timed out) unreachable. */
export function memberProblem(err: unknown, doing: string): MemberProblem {
  const message = `${doing}: ${(err as Error).message}`;
  if ((err as { code?: unknown }).code === "DESTINATION_NOT_ALLOWED") return { code: "DESTINATION_NOT_ALLOWED", message };
  // An apiserver's answer carries its HTTP status (a KubeError; read by shape so this module stays
  // pure); anything else never reached one.
  const status = (err as { status?: unknown }).status;
  if (typeof status !== "number") return { code: "MEMBER_UNREACHABLE", message };
  if (status === 401) return { code: "MEMBER_UNAUTHORIZED", message };
  if (status === 403) return { code: "MEMBER_FORBIDDEN", message };
  return { code: "MEMBER_API_ERROR", message };
}

/** What the member's Rollout says about this fleet revision. */
export function memberView(rollout: MemberRollout | undefined): MemberView {
  if (!rollout) return { reachable: true, missing: true, settled: false };
  const annotations = rollout.metadata.annotations ?? {};
  const status = rollout.status;
  // Until its controller has seen the latest spec, its phase is about an older template.
  const seen = status?.observedGeneration !== undefined && status.observedGeneration === rollout.metadata.generation;
  const phase = seen ? status?.phase : undefined;
  const revision = annotations[FLEET_REVISION_ANNOTATION];
  const rolledBackFrom = annotations[ROLLED_BACK_ANNOTATION];
  return {
    reachable: true,
    ...(revision ? { revision } : {}),
    ...(rolledBackFrom ? { rolledBackFrom } : {}),
    ...(phase ? { phase } : {}),
    settled: phase === "Healthy" && !!status?.stableRS && status.stableRS === status.currentPodHash,
    ...(status?.message ? { message: status.message } : {}),
  };
}

/** The template the member gets: the fleet's, or the member's own with one image changed. */
export function desiredTemplate(spec: FleetRolloutSpec, current: Template | undefined): Template {
  if (spec.template) return spec.template as Template;
  if (!current)
    throw new Error("the member's Rollout has no spec.template (workloadRef Rollouts need spec.template in the FleetRollout)");
  const image = spec.image as NonNullable<FleetRolloutSpec["image"]>;
  const containers = current.spec.containers;
  const index = image.container ? containers.findIndex((c) => c.name === image.container) : 0;
  if (index < 0) throw new Error(`the member's Rollout has no container "${image.container}"`);
  return {
    ...current,
    spec: { ...current.spec, containers: containers.map((c, i) => (i === index ? { ...c, image: image.image } : c)) },
  };
}

/** The member's Rollout carrying this revision; its template before is kept for rollback (once:
 * setting the same revision again keeps the first one). */
export function updatedRollout(rollout: MemberRollout, spec: FleetRolloutSpec, revision: string): MemberRollout {
  const annotations = { ...rollout.metadata.annotations };
  if (annotations[FLEET_REVISION_ANNOTATION] !== revision) {
    annotations[PREVIOUS_TEMPLATE_ANNOTATION] = JSON.stringify(rollout.spec.template ?? null);
  }
  annotations[FLEET_REVISION_ANNOTATION] = revision;
  delete annotations[ROLLED_BACK_ANNOTATION];
  return {
    ...rollout,
    metadata: { ...rollout.metadata, annotations },
    spec: { ...rollout.spec, template: desiredTemplate(spec, rollout.spec.template) },
  };
}

/** The member's Rollout back on the template it had before this revision. */
export function rolledBackRollout(rollout: MemberRollout, revision: string): MemberRollout {
  const annotations = { ...rollout.metadata.annotations };
  const previous = annotations[PREVIOUS_TEMPLATE_ANNOTATION];
  const template = previous ? (JSON.parse(previous) as Template | null) : null;
  if (!template) throw new Error(`the member's Rollout has no ${PREVIOUS_TEMPLATE_ANNOTATION} annotation to roll back to`);
  delete annotations[FLEET_REVISION_ANNOTATION];
  delete annotations[PREVIOUS_TEMPLATE_ANNOTATION];
  annotations[ROLLED_BACK_ANNOTATION] = revision;
  return { ...rollout, metadata: { ...rollout.metadata, annotations }, spec: { ...rollout.spec, template } };
}
