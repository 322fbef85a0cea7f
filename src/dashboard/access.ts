// Who may do what on the dashboard served in the cluster (`ramp controller --dashboard`): the caller's
// bearer token is checked with a TokenReview, then each read and each write with a
// SubjectAccessReview for that identity, so a user can do on the dashboard what their RBAC lets them
// do with kubectl, no more, although the calls are made with the controller's credentials.
import { API_GROUP } from "../api/group.ts";
import type { KubeClient } from "../kube/client.ts";
import type { RolloutChange } from "../rollout/operations.ts";

export interface Caller {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** One request of RBAC's: a verb on a Rollout resource (or its status) in a namespace. */
export interface RolloutAccess {
  verb: "get" | "list" | "patch";
  namespace: string;
  name?: string;
  subresource?: "status";
}

/** Refused: 401 without a valid token, 403 when RBAC says no; the message says why, as the apiserver would. */
export class AccessError extends Error {
  readonly status: 401 | 403;
  constructor(status: 401 | 403, message: string) {
    super(message);
    this.name = "AccessError";
    this.status = status;
  }
}

// Answers are kept briefly: a page's stream and its clicks ask the same few questions again and
// again; a revoked token or RoleBinding takes effect within this time.
const CACHE_MS = 10_000;
const CACHE_MAX = 1000;

/** The access checks a write needs: the status subresource and/or the spec, as `change` writes them. */
export function writesOf(change: RolloutChange, namespace: string, name: string): RolloutAccess[] {
  return [
    ...(change.status ? [{ verb: "patch" as const, namespace, name, subresource: "status" as const }] : []),
    ...(change.spec ? [{ verb: "patch" as const, namespace, name }] : []),
  ];
}

export const describeAccess = (caller: Caller, a: RolloutAccess) =>
  `User "${caller.username}" cannot ${a.verb} resource "rollouts${a.subresource ? `/${a.subresource}` : ""}" in API group "${API_GROUP}" in the namespace "${a.namespace}"`;

export class TokenAccess {
  private readonly client: KubeClient;
  private readonly now: () => number;
  private readonly tokens = new Map<string, { at: number; caller: Caller | undefined }>();
  private readonly reviews = new Map<string, { at: number; allowed: boolean; reason: string }>();

  constructor(client: KubeClient, now: () => number = Date.now) {
    this.client = client;
    this.now = now;
  }

  private fresh<V extends { at: number }>(cache: Map<string, V>, key: string): V | undefined {
    const hit = cache.get(key);
    if (hit && this.now() - hit.at < CACHE_MS) return hit;
    cache.delete(key);
    return undefined;
  }

  private keep<V>(cache: Map<string, V>, key: string, value: V): void {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, value);
  }

  /** The identity of a bearer token, per the apiserver's TokenReview. */
  async authenticate(token: string | undefined): Promise<Caller> {
    if (!token) throw new AccessError(401, "a bearer token is needed (kubectl create token ...)");
    let hit = this.fresh(this.tokens, token);
    if (!hit) {
      const review = await this.client.request<{
        status?: { authenticated?: boolean; user?: Caller; error?: string };
      }>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token },
      });
      const user = review.status?.authenticated ? review.status.user : undefined;
      hit = { at: this.now(), caller: user?.username ? user : undefined };
      this.keep(this.tokens, token, hit);
    }
    if (!hit.caller) throw new AccessError(401, "the token was not accepted by the apiserver (expired or unknown)");
    return hit.caller;
  }

  /** Resolves when RBAC allows `caller` the access, else throws a 403 AccessError. */
  async authorize(caller: Caller, access: RolloutAccess): Promise<void> {
    const key = JSON.stringify([caller, access]);
    let hit = this.fresh(this.reviews, key);
    if (!hit) {
      const review = await this.client.request<{ status?: { allowed?: boolean; reason?: string } }>(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: caller.username,
            ...(caller.uid ? { uid: caller.uid } : {}),
            ...(caller.groups ? { groups: caller.groups } : {}),
            ...(caller.extra ? { extra: caller.extra } : {}),
            resourceAttributes: {
              group: API_GROUP,
              resource: "rollouts",
              verb: access.verb,
              namespace: access.namespace,
              ...(access.name ? { name: access.name } : {}),
              ...(access.subresource ? { subresource: access.subresource } : {}),
            },
          },
        },
      );
      hit = { at: this.now(), allowed: review.status?.allowed === true, reason: review.status?.reason ?? "" };
      this.keep(this.reviews, key, hit);
    }
    if (!hit.allowed) throw new AccessError(403, `${describeAccess(caller, access)}${hit.reason ? ` (${hit.reason})` : ""}`);
  }
}
