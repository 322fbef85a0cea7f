import { describe, expect, it } from "vitest";
import { fleetOutcome, renderFleet } from "./render.ts";

describe("renderFleet", () => {
  it("shows the fleet, the wave under way and each cluster", () => {
    const text = renderFleet("web", "shop", {
      phase: "Progressing",
      revision: "abc",
      message: "wave 2 (rest): held: us-2 cannot be reached",
      currentWave: 1,
      waves: [
        { name: "first", phase: "Healthy", message: "Healthy", clusters: [{ name: "eu-1", phase: "Healthy" }] },
        {
          name: "rest",
          phase: "Progressing",
          message: "held: us-2 cannot be reached",
          clusters: [
            { name: "us-1", phase: "Healthy" },
            { name: "us-2", phase: "Progressing", reachable: false, code: "MEMBER_UNREACHABLE", message: "timed out" },
          ],
        },
      ],
    });
    expect(text).toBe(
      [
        "FleetRollout shop/web: Progressing (revision abc)",
        "  wave 2 (rest): held: us-2 cannot be reached",
        "  wave 1 first: Healthy",
        "    eu-1: Healthy",
        "▶ wave 2 rest: Progressing — held: us-2 cannot be reached",
        "    us-1: Healthy",
        "    us-2: Progressing (unreachable: MEMBER_UNREACHABLE) — timed out",
      ].join("\n"),
    );
  });

  it.each([
    [{ phase: "Healthy" as const, observedGeneration: 2 }, 2, 0],
    [{ phase: "RolledBack" as const, observedGeneration: 2 }, 2, 1],
    [{ phase: "Degraded" as const, observedGeneration: 2 }, 2, 1],
    [{ phase: "Healthy" as const, observedGeneration: 1 }, 2, undefined],
    [{ phase: "Progressing" as const, observedGeneration: 2 }, 2, undefined],
  ])("outcome of %o at generation %i: %s", (status, generation, code) => {
    expect(fleetOutcome(status, generation)).toBe(code);
  });
});
