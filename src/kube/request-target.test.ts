import { describe, expect, it } from "vitest";
import { requestTarget } from "./client.ts";

describe("requestTarget", () => {
  it.each([
    { method: "GET", path: "/apis/ramp.dev/v1alpha1/namespaces/prod/rollouts/web", verb: "get", resource: "rollouts" },
    { method: "GET", path: "/apis/ramp.dev/v1alpha1/namespaces/prod/rollouts", verb: "list", resource: "rollouts" },
    { method: "GET", path: "/apis/ramp.dev/v1alpha1/rollouts", verb: "list", resource: "rollouts" },
    { method: "WATCH", path: "/apis/apps/v1/namespaces/prod/replicasets?watch=true", verb: "watch", resource: "replicasets" },
    { method: "GET", path: "/apis/apps/v1/replicasets?watch=1&resourceVersion=7", verb: "watch", resource: "replicasets" },
    {
      method: "PUT",
      path: "/apis/ramp.dev/v1alpha1/namespaces/prod/rollouts/web/status",
      verb: "update",
      resource: "rollouts/status",
    },
    {
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/prod/replicasets/web-1/scale",
      verb: "patch",
      resource: "replicasets/scale",
    },
    { method: "patch", path: "/api/v1/namespaces/prod/services/web?fieldManager=ramp", verb: "patch", resource: "services" },
    { method: "POST", path: "/api/v1/namespaces/prod/events", verb: "create", resource: "events" },
    { method: "DELETE", path: "/api/v1/namespaces/prod/pods/web-1", verb: "delete", resource: "pods" },
    { method: "DELETE", path: "/api/v1/namespaces/prod/pods", verb: "deletecollection", resource: "pods" },
    // A Namespace is itself a cluster-scoped resource: /namespaces/<name> names one, not a scope.
    { method: "GET", path: "/api/v1/namespaces/prod", verb: "get", resource: "namespaces" },
    { method: "GET", path: "/api/v1/namespaces", verb: "list", resource: "namespaces" },
    {
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      verb: "create",
      resource: "subjectaccessreviews",
    },
    { method: "GET", path: "/apis/ramp.dev/v1alpha1", verb: "get", resource: "none" },
    { method: "GET", path: "/api/v1", verb: "get", resource: "none" },
    { method: "GET", path: "/readyz", verb: "get", resource: "none" },
    { method: "OPTIONS", path: "/api/v1/namespaces/prod/pods/web-1", verb: "other", resource: "pods" },
  ])("$method $path is $verb $resource", ({ method, path, verb, resource }) => {
    expect(requestTarget(method, new URL(path, "https://127.0.0.1:6443"))).toEqual({ verb, resource });
  });
});
