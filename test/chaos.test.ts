// The controller SIGKILLed at random points of every flow and started again at once: each flow must
// still end in its right state, because all rollout state lives in the cluster, never only in memory.
// Seeds make a failing schedule repeatable: RAMP_CHAOS_SEEDS=7,8 npx vitest run test/chaos.test.ts
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { blueGreenFlow, canaryAbortRetryFlow, canaryPromoteFlow, type Flow, workloadRefFlow } from "./flows.ts";
import { namespace } from "./helpers.ts";
import { type ControllerProcess, startController } from "./rollouts.ts";

const SEEDS = (process.env.RAMP_CHAOS_SEEDS ?? "11,23,37").split(",").map(Number);

/** mulberry32: a tiny seeded PRNG, so a seed replays the same kill schedule. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("controller killed at random points", () => {
  it.concurrent.each(SEEDS)(
    "seed %i: canary promote, abort + retry, blue-green and workloadRef all end right",
    async (seed) => {
      const ns = await namespace(`chaos${seed}`);
      const instance = `chaos-${seed}`;
      // The blue-green flow sets its run's phase by hand, as the analysis controller would.
      const args = ["--namespace", ns, "--instance-id", instance, "--no-leader-elect", "--no-analysis"];
      const next = random(seed);
      let controller: ControllerProcess = await startController(args);
      let running = true;
      const kills: number[] = [];
      const started = Date.now();
      const killer = (async () => {
        while (running) {
          await sleep(500 + next() * 4_000);
          if (!running) break;
          await controller.stop("SIGKILL");
          kills.push(Math.round((Date.now() - started) / 100) / 10);
          controller = await startController(args);
        }
      })();
      const flow = (name: string): Flow => ({
        ns,
        name,
        labels: { "ramp.dev/controller-instance-id": instance },
        checkEvents: false,
      });
      try {
        await Promise.all([
          canaryPromoteFlow(flow("web")),
          canaryAbortRetryFlow(flow("api")),
          blueGreenFlow(flow("shop")),
          workloadRefFlow(flow("legacy")),
        ]);
      } finally {
        running = false;
        await killer;
        await controller.stop();
        console.log(`seed ${seed}: ${kills.length} SIGKILLs at ${kills.join("s, ")}s`);
      }
      expect(kills.length).toBeGreaterThan(3);
    },
    300_000,
  );
});
