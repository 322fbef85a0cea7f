// Pure: which of the upstream CRD files' definitions the dev cluster serves — the kinds Ramp's routers
// read and write, with their real schemas and CEL rules — in the apiextensions.k8s.io/v1 form the
// apiserver accepts. The files come from the Go modules that publish them (test/cluster/build.sh crds).
import type { KubeObject } from "../kube/client.ts";

/** The CRDs the routers use: Gateway API, Istio and SMI. */
export const ROUTING_CRDS = [
  "httproutes.gateway.networking.k8s.io",
  "grpcroutes.gateway.networking.k8s.io",
  "referencegrants.gateway.networking.k8s.io",
  "virtualservices.networking.istio.io",
  "destinationrules.networking.istio.io",
  "trafficsplits.split.smi-spec.io",
] as const;

const V1 = "apiextensions.k8s.io/v1";
const V1BETA1 = "apiextensions.k8s.io/v1beta1";

type Column = { JSONPath?: string; [key: string]: unknown };
interface V1beta1Spec {
  group: string;
  scope: string;
  names: Record<string, unknown>;
  version?: string;
  versions?: { name: string; served: boolean; storage: boolean }[];
  validation?: { openAPIV3Schema?: Record<string, unknown> };
  additionalPrinterColumns?: Column[];
  subresources?: Record<string, unknown>;
}

/** A v1beta1 CRD (SMI still publishes one; Kubernetes stopped serving that API in 1.22) as v1: the
 * shared schema and columns move into each version, and the root of a schema must say it is an
 * object to be structural. */
export function asV1(crd: KubeObject): KubeObject {
  if (crd.apiVersion === V1) return crd;
  if (crd.apiVersion !== V1BETA1) throw new Error(`CRD ${crd.metadata?.name}: unknown apiVersion ${crd.apiVersion}`);
  const { validation, additionalPrinterColumns, subresources, version, versions, ...spec } = crd.spec as V1beta1Spec;
  const schema = { type: "object", ...validation?.openAPIV3Schema };
  const columns = additionalPrinterColumns?.map(({ JSONPath, ...c }) => ({ ...c, jsonPath: JSONPath }));
  return {
    ...crd,
    apiVersion: V1,
    spec: {
      ...spec,
      versions: (versions ?? [{ name: version ?? "", served: true, storage: true }]).map((v) => ({
        ...v,
        schema: { openAPIV3Schema: schema },
        ...(columns ? { additionalPrinterColumns: columns } : {}),
        ...(subresources ? { subresources } : {}),
      })),
    },
  };
}

/** The routing CRDs out of the objects of the upstream files, each once; a missing one is an error
 * (a pinned version that no longer publishes it). */
export function routingCrds(objects: KubeObject[]): KubeObject[] {
  return ROUTING_CRDS.map((name) => {
    const crd = objects.find((o) => o.kind === "CustomResourceDefinition" && o.metadata?.name === name);
    if (!crd) throw new Error(`the upstream CRD files have no CustomResourceDefinition "${name}"`);
    return asV1(crd);
  });
}
