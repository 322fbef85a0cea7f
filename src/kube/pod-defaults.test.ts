import { describe, expect, it } from "vitest";
import { type ConfigInputs, configSource, type LeaseNamespaceInputs, leaseNamespace } from "./pod-defaults.ts";

const IN_POD = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };

describe("configSource", () => {
  it.each<[string, ConfigInputs, ReturnType<typeof configSource>]>([
    [
      "the flag wins over everything",
      { kubeconfigFlag: "/k", env: { KUBECONFIG: "/e", ...IN_POD }, homeKubeconfigExists: true },
      { kind: "file", path: "/k" },
    ],
    ["KUBECONFIG wins over the pod", { env: { KUBECONFIG: "/e", ...IN_POD }, homeKubeconfigExists: false }, { kind: "default" }],
    ["~/.kube/config wins over the pod", { env: IN_POD, homeKubeconfigExists: true }, { kind: "default" }],
    ["in a pod with nothing else", { env: IN_POD, homeKubeconfigExists: false }, { kind: "in-cluster" }],
    [
      "an empty KUBECONFIG counts as unset",
      { env: { KUBECONFIG: "", ...IN_POD }, homeKubeconfigExists: false },
      { kind: "in-cluster" },
    ],
    ["nothing at all", { env: {}, homeKubeconfigExists: false }, { kind: "none" }],
  ])("%s", (_, inputs, expected) => {
    expect(configSource(inputs)).toEqual(expected);
  });
});

describe("leaseNamespace", () => {
  it.each<[string, LeaseNamespaceInputs, string]>([
    ["the flag first", { flag: "f", env: { POD_NAMESPACE: "p", RAMP_NAMESPACE: "r" }, serviceAccountNamespace: "s" }, "f"],
    ["POD_NAMESPACE next", { env: { POD_NAMESPACE: "p", RAMP_NAMESPACE: "r" }, serviceAccountNamespace: "s" }, "p"],
    ["RAMP_NAMESPACE keeps working", { env: { RAMP_NAMESPACE: "r" }, serviceAccountNamespace: "s" }, "r"],
    ["the ServiceAccount's namespace file, trimmed", { env: {}, serviceAccountNamespace: "ramp-system\n" }, "ramp-system"],
    ["empty values are skipped", { flag: "", env: { POD_NAMESPACE: "" }, serviceAccountNamespace: " " }, "default"],
    ["default outside a pod", { env: {} }, "default"],
  ])("%s", (_, inputs, expected) => {
    expect(leaseNamespace(inputs)).toBe(expected);
  });
});
