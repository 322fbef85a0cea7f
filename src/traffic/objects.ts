// How every router reads and writes the objects it routes with: read, change, write back with the
// resourceVersion read, and on a conflict start again from a fresh read, so that a change another
// writer made meanwhile (to any field Ramp does not own) is never lost.

import { canonicalJson } from "../api/canonical-json.ts";
import { isAlreadyExists, isConflict, type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { apiserverReader, type ObjectReader } from "../kube/object-caches.ts";
import { type RouterContext, RouterError } from "./router.ts";

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** Writes attempted before giving up on an object that keeps changing (the reconcile retries). */
const ATTEMPTS = 5;

/** KubeClient answers 404 both for a missing object and for a kind the cluster does not serve. */
function asRouterError(err: unknown, ref: ObjectRef): unknown {
  if (!(err instanceof KubeError) || err.status !== 404) return err;
  if (err.message.startsWith("the server does not serve")) {
    return new RouterError("NOT_SERVED", `the cluster does not serve ${ref.kind} (${ref.apiVersion}); install its CRD`);
  }
  return notFound(ref);
}

const notFound = (ref: ObjectRef) =>
  new RouterError("NOT_FOUND", `${ref.kind} "${ref.name}" not found in namespace "${ref.namespace}"`);

/** Where a router reads (its caches) and writes (the client). */
export type RouterIO = Pick<RouterContext, "client" | "objects">;

export async function readObject<T extends KubeObject>(io: RouterIO, ref: ObjectRef): Promise<T> {
  const found = await readIfAny<T>(io.objects, ref);
  if (!found) throw notFound(ref);
  return found;
}

async function readIfAny<T extends KubeObject>(from: ObjectReader, ref: ObjectRef): Promise<T | undefined> {
  try {
    return await from.get<T>(ref.apiVersion, ref.kind, ref.name, ref.namespace);
  } catch (err) {
    throw asRouterError(err, ref);
  }
}

async function write<T extends KubeObject>(
  io: RouterIO,
  ref: ObjectRef,
  next: (current: T | undefined) => T,
  create: boolean,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // A conflict means the cache was behind: the next attempt reads the apiserver.
    const current = await readIfAny<T>(attempt === 1 ? io.objects : apiserverReader(io.client), ref);
    if (!current && !create) throw notFound(ref);
    const wanted = next(current);
    if (current && canonicalJson(wanted) === canonicalJson(current)) return current;
    try {
      const written = current ? await io.client.replace(wanted) : await io.client.create(wanted);
      io.objects.remember(written);
      return written;
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw asRouterError(err, ref);
      if (attempt >= ATTEMPTS) {
        throw new RouterError(
          "CONFLICT",
          `${ref.kind} "${ref.name}" in namespace "${ref.namespace}" changed under each of ${ATTEMPTS} attempts to write it`,
        );
      }
    }
  }
}

/** Writes `change(current)` over the object; an unchanged result writes nothing. */
export const updateObject = <T extends KubeObject>(io: RouterIO, ref: ObjectRef, change: (current: T) => T) =>
  write<T>(io, ref, (current) => change(current as T), false);

/** As updateObject, creating the object from `build(undefined)` when it does not exist. */
export const upsertObject = <T extends KubeObject>(io: RouterIO, ref: ObjectRef, build: (current: T | undefined) => T) =>
  write<T>(io, ref, build, true);

const preferred = new WeakMap<KubeClient, Map<string, Promise<string>>>();

/** The apiVersion the cluster prefers for an API group (e.g. `split.smi-spec.io/v1alpha4`), for
 * kinds whose served versions differ between clusters. Remembered per client. */
export function preferredVersion(client: KubeClient, group: string, kind: string): Promise<string> {
  const known = preferred.get(client) ?? new Map<string, Promise<string>>();
  preferred.set(client, known);
  let found = known.get(group);
  if (!found) {
    found = client
      .request<{ preferredVersion?: { groupVersion?: string } }>("GET", `/apis/${group}`)
      .then((g) => {
        if (!g.preferredVersion?.groupVersion) throw new KubeError(404, "NotFound", `no preferred version of ${group}`);
        return g.preferredVersion.groupVersion;
      })
      .catch((err: unknown) => {
        known.delete(group);
        if (err instanceof KubeError && err.status === 404) {
          throw new RouterError("NOT_SERVED", `the cluster does not serve ${kind} (${group}); install its CRD`);
        }
        throw err;
      });
    known.set(group, found);
  }
  return found;
}
