import { describe, expect, it } from "vitest";
import { optsIn, SECRET_ACCESS_LABEL } from "./secrets.ts";

describe("a Secret opts in with ramp.dev/secret-access naming the use", () => {
  it.each([
    { labels: { [SECRET_ACCESS_LABEL]: "analysis" }, use: "analysis", opted: true },
    { labels: { [SECRET_ACCESS_LABEL]: "analysis,notifications" }, use: "notifications", opted: true },
    { labels: { [SECRET_ACCESS_LABEL]: " analysis , notifications " }, use: "analysis", opted: true },
    { labels: { [SECRET_ACCESS_LABEL]: "notifications" }, use: "analysis", opted: false },
    { labels: { [SECRET_ACCESS_LABEL]: "analysis-extra" }, use: "analysis", opted: false },
    { labels: { [SECRET_ACCESS_LABEL]: "" }, use: "analysis", opted: false },
    { labels: { "ramp.dev/secret-access-x": "analysis" }, use: "analysis", opted: false },
    { labels: undefined, use: "analysis", opted: false },
  ] as const)("$labels for $use: $opted", ({ labels, use, opted }) => {
    expect(optsIn(labels as Record<string, string> | undefined, use)).toBe(opted);
  });
});
