// End to end on the dev cluster: the controller and the CLI as processes, kwok pods, real Services.
import { afterAll, beforeAll, describe, it } from "vitest";
import { canaryAbortRetryFlow, canaryPromoteFlow } from "./flows.ts";
import { namespace } from "./helpers.ts";
import { type ControllerProcess, startController } from "./rollouts.ts";

describe("canary rollout", () => {
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    ns = await namespace("canary");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns]);
  });
  afterAll(async () => {
    await controller?.stop();
  });

  it(
    "walks 10 replicas through [20%, pause 5s, 50%, pause], promote, scale-down after the delay; status -w shows each stage",
    () => canaryPromoteFlow({ ns, name: "web" }, { watch: true }),
    240_000,
  );

  it(
    "abort: stable back at once, zero canary pods after the delay; retry resumes and completes",
    () => canaryAbortRetryFlow({ ns, name: "api" }),
    240_000,
  );
});
