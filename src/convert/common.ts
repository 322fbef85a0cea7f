// Pure: what Argo and Flagger conversions share: object metadata, and integers that may arrive as strings.
import { API_VERSION } from "../api/kinds.ts";
import type { Fields, Json } from "./fields.ts";

export { API_VERSION };

/** Set by the apiserver or by the other controller: meaningless in a new manifest, dropped quietly. */
const SERVER_METADATA = ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"];
const SERVER_ANNOTATIONS = [
  /^kubectl\.kubernetes\.io\/last-applied-configuration$/,
  /^rollout\.argoproj\.io\//,
  /^flagger\.app\//,
];

/** The metadata of a converted object: name, namespace, labels and the annotations that still mean something. */
export function convertMetadata(src: Fields, extraAnnotations: Record<string, string> = {}): Json {
  const out: Json = {};
  const meta = src.child("metadata");
  if (!meta) return out;
  meta.copy(out, ["name", "namespace", "labels"]);
  meta.ignore(SERVER_METADATA);
  const annotations: Record<string, string> = {};
  const source = meta.child("annotations");
  for (const key of Object.keys(source?.value ?? {})) {
    if (SERVER_ANNOTATIONS.some((re) => re.test(key))) source?.ignore([key]);
    else if (key.startsWith("notifications.argoproj.io/"))
      source?.drop(key, "Argo notifications; subscribe with notifications.ramp.dev/on-EVENT (docs/notifications.md)");
    else {
      annotations[key] = String(source?.get(key));
      source?.moved(key, ["metadata", "annotations", key]);
    }
  }
  source?.done();
  Object.assign(annotations, extraAnnotations);
  if (Object.keys(annotations).length) out.annotations = annotations;
  meta.drop("finalizers", "the other controller's finalizers");
  meta.drop("ownerReferences", "owned by another object; Ramp's objects are owned by nothing until applied");
  meta.done();
  return out;
}

/** An integer field that Argo allows as a string (`"3"`, or a `{{args.x}}` Ramp cannot take). */
export function integer(src: Fields, key: string, out: Json, outKey = key): void {
  if (!src.has(key)) {
    src.ignore([key]);
    return;
  }
  const v = src.value[key];
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;
  if (n === undefined || !Number.isInteger(n)) {
    src.drop(key, `${JSON.stringify(v)}: Ramp takes an integer here`);
    return;
  }
  src.get(key);
  out[outKey] = n;
  src.moved(key, [...src.to, outKey]);
}

export const objectName = (obj: Json): string => {
  const meta = obj.metadata as Json | undefined;
  return typeof meta?.name === "string" ? meta.name : "?";
};
export const objectNamespace = (obj: Json): string => {
  const meta = obj.metadata as Json | undefined;
  return typeof meta?.namespace === "string" ? meta.namespace : "";
};
