import { describe, expect, it } from "vitest";
import { getArgs } from "./get.ts";

describe("getArgs: the kind names kubectl would accept", () => {
  it.each<[string, string | undefined, { name?: string }]>([
    ["web", undefined, { name: "web" }],
    ["rollout", "web", { name: "web" }],
    ["rro", "web", { name: "web" }],
    ["Rollouts", "web", { name: "web" }],
    ["rollouts.ramp.dev", "web", { name: "web" }],
    ["rollout.ramp.dev", undefined, {}],
    ["rollouts", undefined, {}],
    ["rro", undefined, {}],
  ])("get %s %s", (first, second, target) => {
    expect(getArgs(first, second)).toEqual(target);
  });

  it("another kind is refused, naming it", () => {
    expect(() => getArgs("pods", "web")).toThrow('the server doesn\'t have a resource type "pods" (Ramp serves rollouts, rro)');
  });
});
