import { describe, expect, it } from "vitest";
import { fleetRolloutSpec } from "../api/fleet.ts";
import { KubeError, KubeTimeoutError } from "../kube/client.ts";
import { DestinationNotAllowed } from "../net/outbound.ts";
import {
  desiredTemplate,
  FLEET_REVISION_ANNOTATION,
  fleetRevision,
  type MemberRollout,
  memberAccess,
  memberProblem,
  memberView,
  PREVIOUS_TEMPLATE_ANNOTATION,
  ROLLED_BACK_ANNOTATION,
  rolledBackRollout,
  updatedRollout,
} from "./member.ts";

const template = (image: string) => ({
  metadata: { labels: { app: "web" } },
  spec: {
    containers: [
      { name: "web", image },
      { name: "proxy", image: "envoy:1" },
    ],
  },
});
const spec = (extra: Record<string, unknown>) =>
  fleetRolloutSpec.parse({ rolloutRef: { namespace: "shop", name: "web" }, waves: [{ name: "w", clusters: ["a"] }], ...extra });

const rollout = (
  annotations: Record<string, string> = {},
  status: MemberRollout["status"] = undefined,
  generation = 2,
): MemberRollout => ({
  apiVersion: "ramp.dev/v1alpha1",
  kind: "Rollout",
  metadata: { name: "web", namespace: "shop", generation, annotations },
  spec: { template: template("web:1") },
  ...(status ? { status } : {}),
});

const kubeconfig = (user: Record<string, unknown>, cluster: Record<string, unknown> = { "certificate-authority-data": "Zm9v" }) =>
  JSON.stringify({
    clusters: [{ name: "c", cluster: { server: "https://10.0.0.1:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  });

describe("memberAccess", () => {
  it.each([
    ["an inline token", kubeconfig({ token: "t" }), undefined],
    ["an inline client certificate", kubeconfig({ "client-certificate-data": "Zm9v", "client-key-data": "Zm9v" }), undefined],
    ["a CA file", kubeconfig({ token: "t" }, { "certificate-authority": "/etc/ca.crt" }), /names files \(ca\)/],
    ["a key file", kubeconfig({ "client-certificate-data": "Zm9v", "client-key": "/var/key" }), /names files \(clientKey\)/],
    ["a token file", kubeconfig({ tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" }), /a token file/],
    ["an exec plugin", kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "aws" } }), /an exec plugin/],
  ])("%s", (_what, text, refused) => {
    if (refused) expect(() => memberAccess(text)).toThrow(refused);
    else expect(memberAccess(text).server).toBe("https://10.0.0.1:6443");
  });
});

describe("memberView", () => {
  const settled = { observedGeneration: 2, phase: "Healthy" as const, stableRS: "h2", currentPodHash: "h2" };
  it.each([
    ["no Rollout", undefined, { reachable: true, missing: true, settled: false }],
    [
      "Healthy and settled",
      rollout({ [FLEET_REVISION_ANNOTATION]: "r2" }, settled),
      { revision: "r2", phase: "Healthy", settled: true },
    ],
    [
      "Healthy with the canary not yet stable",
      rollout({}, { ...settled, currentPodHash: "h3" }),
      { phase: "Healthy", settled: false },
    ],
    [
      "a status of an older generation",
      rollout({}, { ...settled, observedGeneration: 1, phase: "Degraded" }),
      { reachable: true, settled: false },
    ],
    [
      "Degraded",
      rollout({}, { observedGeneration: 2, phase: "Degraded", message: "aborted" }),
      { phase: "Degraded", message: "aborted" },
    ],
    ["rolled back", rollout({ [ROLLED_BACK_ANNOTATION]: "r2" }, settled), { rolledBackFrom: "r2", settled: true }],
  ])("%s", (_what, r, expected) => {
    expect(memberView(r)).toMatchObject(expected);
  });
});

describe("member templates", () => {
  it.each([
    ["the fleet's template", spec({ template: template("web:9") }), "web:9", "envoy:1"],
    ["the first container's image", spec({ image: { image: "web:2" } }), "web:2", "envoy:1"],
    ["a named container's image", spec({ image: { container: "proxy", image: "envoy:2" } }), "web:1", "envoy:2"],
  ])("%s", (_what, s, web, proxy) => {
    expect(desiredTemplate(s, template("web:1")).spec.containers.map((c) => c.image)).toEqual([web, proxy]);
  });

  it("refuses a container the member does not have", () => {
    expect(() => desiredTemplate(spec({ image: { container: "db", image: "pg" } }), template("web:1"))).toThrow(
      /no container "db"/,
    );
  });

  it("update keeps the first previous template; rollback restores it", () => {
    const s = spec({ image: { image: "web:2" } });
    const once = updatedRollout(rollout(), s, "r2");
    const twice = updatedRollout(once, s, "r2");
    expect(twice.metadata.annotations?.[PREVIOUS_TEMPLATE_ANNOTATION]).toBe(JSON.stringify(template("web:1")));
    expect(twice.spec.template?.spec.containers[0]?.image).toBe("web:2");
    const back = rolledBackRollout(twice, "r2");
    expect(back.spec.template).toEqual(template("web:1"));
    expect(back.metadata.annotations).toEqual({ [ROLLED_BACK_ANNOTATION]: "r2" });
    expect(() => rolledBackRollout(rollout(), "r2")).toThrow(/no ramp.dev\/fleet-previous-template/);
  });

  it("the revision changes with what is released", () => {
    expect(fleetRevision(spec({ image: { image: "a" } }))).not.toBe(fleetRevision(spec({ image: { image: "b" } })));
    expect(fleetRevision(spec({ image: { image: "a" } }))).toBe(
      fleetRevision(spec({ image: { image: "a" }, onFailure: "rollback" })),
    );
  });
});

describe("memberProblem", () => {
  it.each([
    ["a refused connection", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "MEMBER_UNREACHABLE"],
    ["no answer in time", new KubeTimeoutError("GET", new URL("https://10.0.0.1:6443/x"), 5000), "MEMBER_UNREACHABLE"],
    ["credentials rejected", new KubeError(401, "Unauthorized", "Unauthorized"), "MEMBER_UNAUTHORIZED"],
    ["RBAC refused", new KubeError(403, "Forbidden", "rollouts is forbidden"), "MEMBER_FORBIDDEN"],
    ["an apiserver failure", new KubeError(500, "InternalError", "etcd timeout"), "MEMBER_API_ERROR"],
    [
      "an address the outbound policy refuses",
      new DestinationNotAllowed("https://169.254.169.254", "built-in"),
      "DESTINATION_NOT_ALLOWED",
    ],
  ])("%s is %s", (_what, err, code) => {
    expect(memberProblem(err, "cannot read Rollout shop/web")).toEqual({
      code,
      message: `cannot read Rollout shop/web: ${(err as Error).message}`,
    });
  });
});
