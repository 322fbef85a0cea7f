import { describe, expect, it } from "vitest";
import { judgeSlo, type SloLimits } from "./verdict.ts";

const limits: SloLimits = { minRequests: 50, errorRateMax: 0.01, latency: { quantile: 0.99, maxSeconds: 0.5 } };

describe("judgeSlo", () => {
  it.each([
    {
      name: "too few requests",
      reading: { requests: 49, errorRate: 0, latencySeconds: 0.1 },
      verdict: undefined,
      reason: "49 requests in 1m, fewer than minRequests (50)",
    },
    {
      name: "no latency",
      reading: { requests: 100, errorRate: 0, latencySeconds: undefined },
      verdict: undefined,
      reason: "no p99 latency over 1m",
    },
    {
      name: "within limits",
      reading: { requests: 100, errorRate: 0.01, latencySeconds: 0.5 },
      verdict: "Successful",
      reason: "within limits",
    },
    {
      name: "errors above",
      reading: { requests: 100, errorRate: 0.02, latencySeconds: 0.1 },
      verdict: "Failed",
      reason: "error rate 0.02 above 0.01",
    },
    {
      name: "both above",
      reading: { requests: 100, errorRate: 0.02, latencySeconds: 0.75 },
      verdict: "Failed",
      reason: "error rate 0.02 above 0.01; p99 latency 0.75s above 0.5s",
    },
  ] as const)("$name: $verdict", ({ reading, verdict, reason }) => {
    expect(judgeSlo(limits, reading, "1m")).toMatchObject({ verdict, reason });
  });
  it("gives the latency as value when only latency is limited", () => {
    const judged = judgeSlo(
      { minRequests: 0, latency: { quantile: 0.9, maxSeconds: 1 } },
      { requests: 5, errorRate: undefined, latencySeconds: 0.3 },
      "1m",
    );
    expect(judged).toMatchObject({ verdict: "Successful", value: 0.3 });
  });
});
