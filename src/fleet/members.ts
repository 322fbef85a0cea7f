// The member clusters of a namespace, and clients for them. Members are ClusterProfiles (SIG
// Multicluster's Cluster Inventory API) when that API is served, else the labelled kubeconfig
// Secrets themselves; either way a member's credentials are the kubeconfig in the Secret labelled
// ramp.dev/fleet-member=<its name> in the same namespace. They are parsed in memory, never written.
import { isNotFound, KubeClient, type KubeObject } from "../kube/client.ts";
import type { OutboundDoor } from "../net/outbound.ts";
import { FLEET_MEMBER_LABEL, KUBECONFIG_KEY, type MemberProblem, memberAccess, memberProblem } from "./member.ts";
import type { Member } from "./plan.ts";

export const CLUSTER_PROFILE_API = "multicluster.x-k8s.io/v1alpha1";

type Secret = KubeObject & { data?: Record<string, string>; metadata: { uid?: string; resourceVersion?: string } };

export interface FoundMember extends Member {
  /** A client for the member's apiserver, or why there is none (a bad or missing kubeconfig). */
  client: KubeClient | MemberProblem;
}

/** Makes member clients and keeps them while their Secret is unchanged (their connection pools too). */
export class MemberClients {
  private readonly cache = new Map<string, { version: string; client: KubeClient | MemberProblem }>();
  private readonly opts: { door: OutboundDoor; requestTimeoutMs: number; fieldManager: string };

  constructor(opts: { door: OutboundDoor; requestTimeoutMs: number; fieldManager: string }) {
    this.opts = opts;
  }

  /** The members of `namespace`, by name. */
  async list(management: KubeClient, namespace: string): Promise<FoundMember[]> {
    const secrets = await management.list<Secret>("v1", "Secret", namespace, FLEET_MEMBER_LABEL);
    const byName = new Map(secrets.map((s) => [s.metadata.labels?.[FLEET_MEMBER_LABEL] ?? "", s]));
    const profiles = await clusterProfiles(management, namespace);
    const members: Member[] = profiles
      ? profiles.map((p) => ({ name: p.metadata.name ?? "", labels: p.metadata.labels ?? {} }))
      : secrets.map((s) => ({ name: s.metadata.labels?.[FLEET_MEMBER_LABEL] ?? "", labels: withoutMemberLabel(s) }));
    this.prune(namespace, secrets);
    return members.map((m) => ({ ...m, client: this.clientFor(namespace, m.name, byName.get(m.name)) }));
  }

  /** Forgets the clients of the namespace's Secrets that are gone: their credentials leave memory
   * (a changed Secret's client is replaced in clientFor; idle connections close by themselves). */
  private prune(namespace: string, secrets: Secret[]): void {
    const present = new Set(secrets.map((s) => `${namespace}/${s.metadata.name}`));
    for (const key of this.cache.keys()) if (key.startsWith(`${namespace}/`) && !present.has(key)) this.cache.delete(key);
  }

  /** How many clients are kept (for tests). */
  get size(): number {
    return this.cache.size;
  }

  private clientFor(namespace: string, name: string, secret: Secret | undefined): KubeClient | MemberProblem {
    if (!secret)
      return { code: "MEMBER_CREDENTIALS_MISSING", message: `no Secret in ${namespace} labelled ${FLEET_MEMBER_LABEL}=${name}` };
    const key = `${namespace}/${secret.metadata.name}`;
    // A Secret deleted and made again under the same name has a new uid, whatever its resourceVersion.
    const version = `${secret.metadata.uid ?? ""}/${secret.metadata.resourceVersion ?? ""}`;
    const cached = this.cache.get(key);
    if (cached?.version === version) return cached.client;
    const client = this.makeClient(key, secret);
    this.cache.set(key, { version, client });
    return client;
  }

  private makeClient(key: string, secret: Secret): KubeClient | MemberProblem {
    let access: ReturnType<typeof memberAccess>;
    try {
      const encoded = secret.data?.[KUBECONFIG_KEY];
      if (!encoded) throw new Error(`has no key "${KUBECONFIG_KEY}"`);
      access = memberAccess(Buffer.from(encoded, "base64").toString("utf8"));
    } catch (err) {
      return { code: "MEMBER_CREDENTIALS_INVALID", message: `Secret ${key}: ${(err as Error).message}` };
    }
    try {
      const { lookup } = this.opts.door.open(access.server);
      return new KubeClient({
        access,
        lookup,
        fieldManager: this.opts.fieldManager,
        requestTimeoutMs: this.opts.requestTimeoutMs,
      });
    } catch (err) {
      return memberProblem(err, `Secret ${key}`);
    }
  }
}

const withoutMemberLabel = (s: Secret): Record<string, string> => {
  const { [FLEET_MEMBER_LABEL]: _name, ...labels } = s.metadata.labels ?? {};
  return labels;
};

/** The namespace's ClusterProfiles, or undefined when the API is not served. */
async function clusterProfiles(client: KubeClient, namespace: string): Promise<KubeObject[] | undefined> {
  try {
    return await client.list(CLUSTER_PROFILE_API, "ClusterProfile", namespace);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
