import { describe, expect, it } from "vitest";
import type { Metric } from "../../../api/analysis.ts";
import { API_VERSION } from "../../../api/group.ts";
import { formatPath, validateObject } from "../../../api/validate.ts";
import type { JobObject } from "../../types.ts";
import { jobManifest, jobName, jobVerdict, ownedBy, RUN_UID_LABEL } from "./job.ts";

const owner = { apiVersion: "ramp.dev/v1alpha1", kind: "AnalysisRun", name: "web-7d9f-2", uid: "0b1c-uid" };
const spec: NonNullable<Metric["provider"]["job"]> = {
  metadata: { labels: { team: "a" } },
  spec: { template: { spec: { containers: [{ name: "check", image: "busybox" }], restartPolicy: "Never" } } },
};

describe("jobName", () => {
  it.each([
    ["smoke", 1, /^web-7d9f-2-smoke-1-[0-9a-f]{8}$/],
    ["Smoke Test!", 3, /^web-7d9f-2-smoke-test-3-[0-9a-f]{8}$/],
    ["x".repeat(63), 12, /^web-7d9f-2-x+-12-[0-9a-f]{8}$/],
  ])("%s, measurement %i: %s, a DNS label", (metric, n, shape) => {
    const name = jobName(owner, metric, n);
    expect(name).toMatch(shape);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it("is the same for the same measurement (a restarted controller finds its Job), and differs otherwise", () => {
    expect(jobName(owner, "smoke", 1)).toBe(jobName(owner, "smoke", 1));
    expect(jobName(owner, "smoke", 1)).not.toBe(jobName(owner, "smoke", 2));
    expect(jobName(owner, "smoke", 1)).not.toBe(jobName({ ...owner, uid: "other" }, "smoke", 1));
  });
});

describe("jobManifest", () => {
  it("is in the run's namespace, owned by the run, labelled with it, and bounded", () => {
    const job = jobManifest(spec, owner, "team-a", "smoke", 1, 300);
    expect(job.metadata).toMatchObject({
      namespace: "team-a",
      labels: { team: "a", [RUN_UID_LABEL]: "0b1c-uid" },
      annotations: { "ramp.dev/analysis-run": "web-7d9f-2", "ramp.dev/metric": "smoke" },
      ownerReferences: [{ kind: "AnalysisRun", name: "web-7d9f-2", uid: "0b1c-uid", controller: true }],
    });
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 300, template: spec.spec.template });
    expect(ownedBy(job, owner)).toBe(true);
    expect(ownedBy(job, { ...owner, uid: "someone-else" })).toBe(false);
  });

  it.each([
    [{ activeDeadlineSeconds: 30 }, 300, 30],
    [{ activeDeadlineSeconds: 9000 }, 300, 300],
    [{}, 60, 60],
  ])("activeDeadlineSeconds %j with timeout %is: %i", (extra, timeout, deadline) => {
    const job = jobManifest({ ...spec, spec: { ...spec.spec, ...extra } }, owner, "ns", "m", 1, timeout);
    expect((job.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds).toBe(deadline);
  });

  it("keeps the tenant's labels from overriding the run's", () => {
    const job = jobManifest({ ...spec, metadata: { labels: { [RUN_UID_LABEL]: "forged" } } }, owner, "ns", "m", 1, 60);
    expect(job.metadata.labels?.[RUN_UID_LABEL]).toBe("0b1c-uid");
  });
});

const withConditions = (...conditions: { type: string; status: string; reason?: string; message?: string }[]): JobObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "j" },
  status: { conditions },
});

describe("jobVerdict", () => {
  it.each([
    ["no status yet", { apiVersion: "batch/v1", kind: "Job", metadata: {} } as JobObject, undefined],
    ["running", withConditions(), undefined],
    ["success criteria met, not yet Complete", withConditions({ type: "SuccessCriteriaMet", status: "True" }), undefined],
    ["failure target, not yet Failed", withConditions({ type: "FailureTarget", status: "True" }), undefined],
    [
      "Complete",
      withConditions(
        { type: "SuccessCriteriaMet", status: "True" },
        { type: "Complete", status: "True", reason: "CompletionsReached" },
      ),
      { phase: "Successful", reason: "CompletionsReached", message: "" },
    ],
    [
      "Failed by its backoff limit",
      withConditions({
        type: "Failed",
        status: "True",
        reason: "BackoffLimitExceeded",
        message: "Job has reached the specified backoff limit",
      }),
      { phase: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" },
    ],
    [
      "Failed by its deadline",
      withConditions({ type: "Failed", status: "True", reason: "DeadlineExceeded" }),
      { phase: "Failed", reason: "DeadlineExceeded", message: "" },
    ],
    ["a False condition", withConditions({ type: "Complete", status: "False" }), undefined],
  ])("%s: %j", (_what, job, verdict) => {
    expect(jobVerdict(job)).toEqual(verdict);
  });
});

const template = (provider: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  metrics: [{ name: "m", provider, ...extra }],
});

/** Problems as `ramp lint` and the CRD see them: the zod schema and the CEL rules. */
function problems(spec: unknown): string[] {
  const v = validateObject({ apiVersion: API_VERSION, kind: "AnalysisTemplate", metadata: { name: "t" }, spec });
  if (v.status !== "checked") throw new Error("not checked");
  return v.problems.map((p) => `${formatPath(p.path)}: ${p.message}`);
}

describe("the schema of web and job metrics", () => {
  it.each([
    [
      "a web metric with a condition",
      template({ web: { url: "http://x/", jsonPath: "{$.ok}" } }, { successCondition: "result == 1.0" }),
    ],
    ["a job metric needs no condition", template({ job: spec })],
    [
      "a web header from a Secret",
      template(
        { web: { url: "http://x/", headers: [{ key: "Authorization", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] } },
        { successCondition: "result > 0" },
      ),
    ],
  ])("accepts %s", (_what, doc) => {
    expect(problems(doc)).toEqual([]);
  });

  it.each([
    ["a web metric without conditions", template({ web: { url: "http://x/" } }), "successCondition"],
    ["a hand-written job selector", template({ job: { spec: { ...spec.spec, manualSelector: true } } }), "manualSelector"],
    [
      "a filter in jsonPath",
      template({ web: { url: "http://x/", jsonPath: "$[?(@.a)]" } }, { successCondition: "true" }),
      "jsonPath",
    ],
    [
      "a 300-character jsonPath",
      template({ web: { url: "http://x/", jsonPath: `$.${"a".repeat(300)}` } }, { successCondition: "true" }),
      "jsonPath",
    ],
    [
      "a body over 64 KiB",
      template({ web: { url: "http://x/", method: "POST", body: "x".repeat(65_537) } }, { successCondition: "true" }),
      "body",
    ],
    ["a web timeout over 2m", template({ web: { url: "http://x/", timeout: "5m" } }, { successCondition: "true" }), "timeout"],
    ["DELETE", template({ web: { url: "http://x/", method: "DELETE" } }, { successCondition: "true" }), "method"],
    [
      "a header with value and valueFrom",
      template(
        { web: { url: "http://x/", headers: [{ key: "a", value: "b", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] } },
        { successCondition: "true" },
      ),
      "headers",
    ],
    ["a job timeout over 1h", template({ job: { ...spec, timeout: "2h" } }), "timeout"],
    ["a job without containers", template({ job: { spec: { template: { spec: { containers: [] } } } } }), "containers"],
    ["a job backoffLimit over 10", template({ job: { spec: { ...spec.spec, backoffLimit: 50 } } }), "backoffLimit"],
    ["a job metadata namespace", template({ job: { ...spec, metadata: { namespace: "other" } } }), "metadata"],
  ])("refuses %s, naming %s", (_what, doc, field) => {
    const found = problems(doc);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toContain(field);
  });
});

describe("a job metric's pod cannot ask for more than the tenant has (created with the controller's rights)", () => {
  const pod = (podSpec: Record<string, unknown>, container: Record<string, unknown> = {}) =>
    template({
      job: { spec: { template: { spec: { containers: [{ name: "check", image: "busybox", ...container }], ...podSpec } } } },
    });
  const at = "spec.metrics[0].provider.job.spec.template.spec";

  it.each([
    ["the namespace's default ServiceAccount", pod({ serviceAccountName: "default" })],
    ["host namespaces explicitly off", pod({ hostNetwork: false, hostPID: false, hostIPC: false })],
    [
      "an emptyDir and a configMap volume",
      pod({
        volumes: [
          { name: "a", emptyDir: {} },
          { name: "b", configMap: { name: "c" } },
        ],
      }),
    ],
    [
      "an unprivileged container dropping capabilities",
      pod({}, { securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }),
    ],
  ])("accepts %s", (_what, doc) => {
    expect(problems(doc)).toEqual([]);
  });

  it.each([
    ["hostNetwork", pod({ hostNetwork: true }), `${at}.hostNetwork: hostNetwork is not allowed`],
    ["hostPID", pod({ hostPID: true }), `${at}.hostPID: hostPID is not allowed`],
    ["hostIPC", pod({ hostIPC: true }), `${at}.hostIPC: hostIPC is not allowed`],
    [
      "another ServiceAccount",
      pod({ serviceAccountName: "ramp-controller" }),
      `${at}.serviceAccountName: serviceAccountName may only be default`,
    ],
    [
      "the deprecated serviceAccount",
      pod({ serviceAccount: "admin" }),
      `${at}.serviceAccount: serviceAccount may only be default`,
    ],
    [
      "a hostPath volume",
      pod({ volumes: [{ name: "root", hostPath: { path: "/" } }] }),
      `${at}.volumes[0].hostPath: hostPath volumes are not allowed`,
    ],
    [
      "a privileged container",
      pod({}, { securityContext: { privileged: true } }),
      `${at}.containers[0].securityContext.privileged: privileged is not allowed`,
    ],
    [
      "privilege escalation",
      pod({}, { securityContext: { allowPrivilegeEscalation: true } }),
      `${at}.containers[0].securityContext.allowPrivilegeEscalation: allowPrivilegeEscalation is not allowed`,
    ],
    [
      "an added capability",
      pod({}, { securityContext: { capabilities: { add: ["SYS_ADMIN"] } } }),
      `${at}.containers[0].securityContext.capabilities.add: adding capabilities is not allowed`,
    ],
    ["a thousand pods at once", template({ job: { spec: { ...spec.spec, parallelism: 1000 } } }), "parallelism"],
    ["a thousand completions", template({ job: { spec: { ...spec.spec, completions: 1000 } } }), "completions"],
    [
      "a privileged init container",
      pod({ initContainers: [{ name: "i", image: "busybox", securityContext: { privileged: true } }] }),
      `${at}.initContainers[0].securityContext.privileged: privileged is not allowed`,
    ],
  ])("refuses %s, naming the field", (_what, doc, problem) => {
    const found = problems(doc);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(problem);
  });
});
