import { describe, expect, it } from "vitest";
import { type EndpointSliceObject, readyEndpointsOf, SERVICE_NAME_LABEL } from "./objects.ts";

type Endpoint = NonNullable<EndpointSliceObject["endpoints"]>[number];
const slice = (service: string, endpoints: Endpoint[]): EndpointSliceObject => ({
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: `${service}-x1`, namespace: "app", labels: { [SERVICE_NAME_LABEL]: service } },
  endpoints,
});
const pod = (name: string, conditions: Endpoint["conditions"] = { ready: true }): Endpoint => ({
  conditions,
  targetRef: { kind: "Pod", name },
});
const LONG = `web-${"a".repeat(60)}`;

describe("readyEndpointsOf: a Service's ready endpoints that are pods of one ReplicaSet", () => {
  it.each<{ name: string; slices: EndpointSliceObject[]; replicaSet?: string; others?: string[]; count: number | undefined }>([
    { name: "no slices yet", slices: [], count: 0 },
    { name: "two ready pods", slices: [slice("web-canary", [pod("web-new-abcde"), pod("web-new-fghij")])], count: 2 },
    {
      name: "across two slices, a pod listed twice counted once",
      slices: [slice("web-canary", [pod("web-new-abcde")]), slice("web-canary", [pod("web-new-abcde"), pod("web-new-fghij")])],
      count: 2,
    },
    {
      name: "not ready, or terminating, or ready unknown (counted, as kube-proxy does)",
      slices: [
        slice("web-canary", [
          pod("web-new-aaaaa", { ready: false }),
          pod("web-new-bbbbb", { ready: true, terminating: true }),
          pod("web-new-ccccc", {}),
        ]),
      ],
      count: 1,
    },
    {
      name: "another revision's pods still in the slice",
      slices: [slice("web-canary", [pod("web-old-abcde"), pod("web-new-abcde")])],
      count: 1,
    },
    {
      name: "a name with the prefix but not generated from it",
      slices: [slice("web-canary", [pod("web-new-abcde-12345"), pod("web-new-abc")])],
      count: 0,
    },
    { name: "another Service's slice", slices: [slice("web-stable", [pod("web-new-abcde")])], count: 0 },
    {
      name: "an endpoint that is no pod",
      slices: [slice("web-canary", [{ conditions: { ready: true }, targetRef: { kind: "Node", name: "web-new-abcde" } }])],
      count: 0,
    },
    {
      name: "a long name: the apiserver cuts the base to 58",
      slices: [slice("web-canary", [pod(`${LONG}-`.slice(0, 58) + "abcde")])],
      replicaSet: LONG,
      count: 1,
    },
    {
      name: "two ReplicaSets cut to one prefix: cannot tell",
      slices: [slice("web-canary", [pod(`${LONG}-`.slice(0, 58) + "abcde")])],
      replicaSet: LONG,
      others: [LONG, `${LONG}b`],
      count: undefined,
    },
  ])("$name", ({ slices, replicaSet = "web-new", others = ["web-old", "web-new"], count }) => {
    expect(readyEndpointsOf(slices, "web-canary", replicaSet, others)).toBe(count);
  });
});
