// The job provider over a fake JobApi: what it creates, how it reads the verdict, that it always
// deletes what it created, and how each failure becomes a code.
import { describe, expect, it } from "vitest";
import type { Metric } from "../../../api/analysis.ts";
import { KubeError } from "../../../kube/client.ts";
import { OutboundDoor } from "../../../net/outbound.ts";
import type { JobApi, JobObject, MeasureContext } from "../../types.ts";
import { jobProvider } from "./provider.ts";

const run = { apiVersion: "ramp.dev/v1alpha1", kind: "AnalysisRun", name: "r", uid: "u-1", taken: { m: 2 } };

function fakeJobs(finish: (job: JobObject) => JobObject | "never", create?: (job: JobObject) => JobObject) {
  const calls: string[] = [];
  let made: JobObject | undefined;
  const api: JobApi = {
    async createOrGet(job) {
      calls.push(`create ${job.metadata.name}`);
      made = create ? create(job) : job;
      return made;
    },
    waitFor: (_ns, name, done, signal) =>
      new Promise((resolve, reject) => {
        calls.push(`wait ${name}`);
        const end = finish(made as JobObject);
        if (end !== "never" && done(end)) return resolve(end);
        signal.addEventListener("abort", () => reject(signal.reason));
      }),
    async delete(_ns, name) {
      calls.push(`delete ${name}`);
    },
  };
  return { api, calls, made: () => made };
}

const metric = (job: Record<string, unknown>): Metric =>
  ({
    name: "m",
    provider: {
      job: { spec: { template: { spec: { containers: [{ name: "c", image: "i", args: ["{{args.target}}"] }] } } }, ...job },
    },
  }) as unknown as Metric;

const ctx = (jobs: JobApi, extra: Partial<MeasureContext> = {}): MeasureContext => ({
  args: { target: "http://canary" },
  now: new Date(0),
  namespace: "team",
  outbound: new OutboundDoor({ allow: [], deny: [], allowLoopback: false, apiserver: [] }),
  run,
  jobs,
  ...extra,
});

const withCondition =
  (type: string, reason: string) =>
  (job: JobObject): JobObject => ({
    ...job,
    status: { conditions: [{ type, status: "True", reason }] },
  });

describe("jobProvider", () => {
  it.each([
    ["Complete", withCondition("Complete", "CompletionsReached"), "Successful", "CompletionsReached"],
    ["Failed", withCondition("Failed", "BackoffLimitExceeded"), "Failed", "BackoffLimitExceeded"],
  ])("a Job that ends %s gives %s, and is deleted", async (_what, finish, verdict, reason) => {
    const jobs = fakeJobs(finish);
    const outcome = await jobProvider.measure(metric({}), ctx(jobs.api));
    expect(outcome).toMatchObject({ ok: true, verdict, metadata: { reason } });
    const name = jobs.made()?.metadata.name;
    expect(name).toMatch(/^r-m-3-[0-9a-f]{8}$/); // measurement 3: two taken before
    expect(jobs.calls).toEqual([`create ${name}`, `wait ${name}`, `delete ${name}`]);
    expect(JSON.stringify(jobs.made()?.spec)).toContain('"args":["http://canary"]');
    expect(jobs.made()?.metadata.namespace).toBe("team");
  });

  it("a wait cancelled by the controller is JOB_ABORTED, and the Job is still deleted", async () => {
    const jobs = fakeJobs(() => "never");
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 20);
    const outcome = await jobProvider.measure(metric({ timeout: 0 }), ctx(jobs.api, { signal: caller.signal }));
    expect(outcome).toMatchObject({ ok: false, code: "JOB_ABORTED" });
    expect(jobs.calls.at(-1)).toMatch(/^delete /);
  });

  it("a Job of that name owned by something else is never adopted, nor deleted", async () => {
    const jobs = fakeJobs(withCondition("Complete", "x"), (job) => ({
      ...job,
      metadata: { ...job.metadata, ownerReferences: [] },
    }));
    const outcome = await jobProvider.measure(metric({}), ctx(jobs.api));
    expect(outcome).toMatchObject({
      ok: false,
      code: "JOB_CREATE_FAILED",
      message: expect.stringMatching(/belongs to something else/),
    });
    expect(jobs.calls.filter((c) => c.startsWith("delete"))).toEqual([]);
  });

  it("a create the apiserver refuses is JOB_CREATE_FAILED with its message", async () => {
    const jobs = fakeJobs(withCondition("Complete", "x"), () => {
      throw new KubeError(403, "Forbidden", 'jobs.batch is forbidden: cannot create resource "jobs"');
    });
    const outcome = await jobProvider.measure(metric({}), ctx(jobs.api));
    expect(outcome).toMatchObject({
      ok: false,
      code: "JOB_CREATE_FAILED",
      message: expect.stringMatching(/cannot create resource "jobs"/),
    });
  });

  it.each([
    ["a controller without --job-provider", { jobs: undefined }, "JOB_PROVIDER_DISABLED"],
    ["an unknown argument", { args: {} }, "BAD_ARGUMENT"],
  ])("%s is %s, with nothing created", async (_what, extra, code) => {
    const jobs = fakeJobs(withCondition("Complete", "x"));
    const outcome = await jobProvider.measure(metric({}), ctx(jobs.api, extra as Partial<MeasureContext>));
    expect(outcome).toMatchObject({ ok: false, code });
    expect(jobs.calls).toEqual([]);
  });

  // A run stored under an older CRD (Helm never upgrades CRDs) still cannot get such a Job.
  it.each([
    ["hostNetwork", { hostNetwork: true }, /template\.spec\.hostNetwork: hostNetwork is not allowed/],
    ["another ServiceAccount", { serviceAccountName: "admin" }, /serviceAccountName may only be default/],
    ["a hostPath volume", { volumes: [{ name: "r", hostPath: { path: "/" } }] }, /volumes\[0\]\.hostPath/],
  ])("a Job with %s is JOB_SPEC_REFUSED, with nothing created", async (_what, podFields, message) => {
    const jobs = fakeJobs(withCondition("Complete", "x"));
    const spec = { template: { spec: { containers: [{ name: "c", image: "i" }], ...podFields } } };
    const outcome = await jobProvider.measure(metric({ spec }), ctx(jobs.api));
    expect(outcome).toMatchObject({ ok: false, code: "JOB_SPEC_REFUSED", message: expect.stringMatching(message) });
    expect(jobs.calls).toEqual([]);
  });
});
