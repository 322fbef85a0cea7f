import { describe, expect, it } from "vitest";
import { type KubeClient, KubeError, type KubeObject } from "../kube/client.ts";
import { apiserverReader, type ObjectReader } from "../kube/object-caches.ts";
import { type ObjectRef, updateObject, upsertObject } from "./objects.ts";

const ref: ObjectRef = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", name: "web", namespace: "shop" };
type Obj = KubeObject & { spec?: Record<string, unknown> };

/** An apiserver of one object: replace is guarded by resourceVersion, and `meddle` changes the
 * object between Ramp's read and its write as many times as it returns true. */
function fakeServer(initial: Obj | undefined, opts: { meddle?: (o: Obj) => boolean; served?: boolean } = {}) {
  let stored = initial && { ...initial, metadata: { ...initial.metadata, resourceVersion: "1" } };
  let version = 1;
  const writes: Obj[] = [];
  const save = (o: Obj) => {
    stored = { ...o, metadata: { ...o.metadata, resourceVersion: String(++version) } };
    return structuredClone(stored);
  };
  const client = {
    get: async () => {
      if (opts.served === false)
        throw new KubeError(404, "NotFound", "the server does not serve HTTPRoute in gateway.networking.k8s.io/v1");
      if (!stored) throw new KubeError(404, "NotFound", 'httproutes "web" not found');
      const read = structuredClone(stored);
      if (opts.meddle?.(stored)) stored.metadata.resourceVersion = String(++version);
      return read;
    },
    replace: async (o: Obj) => {
      writes.push(o);
      if (o.metadata.resourceVersion !== stored?.metadata.resourceVersion)
        throw new KubeError(409, "Conflict", "the object has been modified");
      return save(o);
    },
    create: async (o: Obj) => {
      writes.push(o);
      if (stored) throw new KubeError(409, "AlreadyExists", "already exists");
      return save(o);
    },
  } as unknown as KubeClient;
  return { io: { client, objects: apiserverReader(client) }, writes, stored: () => stored };
}

const route = (spec: Record<string, unknown>): Obj => ({
  apiVersion: ref.apiVersion,
  kind: "HTTPRoute",
  metadata: { name: "web", namespace: "shop" },
  spec,
});
const setWeight = (weight: number) => (o: Obj) => ({ ...o, spec: { ...o.spec, weight } });

describe("updateObject", () => {
  it.each([
    { name: "writes over the version read", meddles: 0, writes: 1 },
    { name: "a conflict re-reads, keeping the other writer's change", meddles: 2, writes: 3 },
  ])("$name", async ({ meddles, writes }) => {
    let left = meddles;
    const server = fakeServer(route({ weight: 0 }), {
      meddle: (o) => {
        if (left-- <= 0) return false;
        o.spec = { ...o.spec, hostnames: [`other-${left}`] };
        return true;
      },
    });
    await updateObject(server.io, ref, setWeight(25));
    expect(server.writes).toHaveLength(writes);
    expect(server.stored()?.spec).toEqual(meddles ? { weight: 25, hostnames: ["other-0"] } : { weight: 25 });
  });

  it("a cache that is behind costs one conflict: the next attempt reads the apiserver", async () => {
    const server = fakeServer(route({ weight: 0 }));
    const behind: ObjectReader = {
      ...server.io.objects,
      get: async <T>() => ({ ...route({ weight: 0 }), metadata: { ...route({}).metadata, resourceVersion: "0" } }) as T,
    };
    await updateObject({ ...server.io, objects: behind }, ref, setWeight(25));
    expect(server.writes).toHaveLength(2);
    expect(server.stored()?.spec).toEqual({ weight: 25 });
  });

  it("writes nothing when nothing changes", async () => {
    const server = fakeServer(route({ weight: 25 }));
    await updateObject(server.io, ref, setWeight(25));
    expect(server.writes).toHaveLength(0);
  });

  it.each([
    {
      name: "an object that keeps changing",
      server: () => fakeServer(route({}), { meddle: () => true }),
      error: 'HTTPRoute "web" in namespace "shop" changed under each of 5 attempts to write it',
    },
    { name: "a missing object", server: () => fakeServer(undefined), error: 'HTTPRoute "web" not found in namespace "shop"' },
    {
      name: "a kind the cluster does not serve",
      server: () => fakeServer(undefined, { served: false }),
      error: "the cluster does not serve HTTPRoute (gateway.networking.k8s.io/v1); install its CRD",
    },
  ])("fails clearly on $name", async ({ server, error }) => {
    await expect(updateObject(server().io, ref, setWeight(25))).rejects.toThrow(error);
  });
});

describe("upsertObject", () => {
  it.each([
    { name: "creates a missing object", initial: undefined, want: { weight: 25, created: true } },
    { name: "updates an existing one", initial: route({ weight: 0, other: 1 }), want: { weight: 25, other: 1 } },
  ])("$name", async ({ initial, want }) => {
    const server = fakeServer(initial);
    await upsertObject<Obj>(server.io, ref, (o) => (o ? setWeight(25)(o) : route({ weight: 25, created: true })));
    expect(server.stored()?.spec).toEqual(want);
  });
});
