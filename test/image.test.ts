// The controller image (scripts/build-image.ts) as the dev cluster's controller: it serves /healthz
// and drives a canary rollout to completion, as its non-root user on a read-only root filesystem.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltImage, buildImage } from "../scripts/build-image.ts";
import { canaryPromoteFlow } from "./flows.ts";
import { cluster, namespace } from "./helpers.ts";
import { type ImageRunner, imageRunner, KUBECONFIG_IN_IMAGE } from "./image.ts";
import { type ControllerProcess, startController } from "./rollouts.ts";

const run = promisify(execFile);

describe("controller image", () => {
  let dir: string;
  let image: BuiltImage;
  let runner: ImageRunner;
  let ns: string;
  let controller: ControllerProcess;
  beforeAll(async () => {
    image = await buildImage((line) => console.error(`[image] ${line}`));
    console.error(
      `[image] ${image.reference} ${image.reused ? "reused" : "built"} in ${image.seconds.toFixed(1)} s: ` +
        `${(image.archiveBytes / 1e6).toFixed(1)} MB archive ${image.archive}`,
    );
    dir = mkdtempSync(join(tmpdir(), "ramp-image-"));
    runner = await imageRunner(image.archive, cluster().kubeconfig, dir);
    console.error(`[image] running it with ${runner.mode}${runner.reason ? ` (podman refused here: ${runner.reason})` : ""}`);
    ns = await namespace("image");
    controller = await startController(["--namespace", ns, "--leader-election-namespace", ns], {
      command: runner.command([...runner.config.Entrypoint, ...runner.config.Cmd]),
      kubeconfig: KUBECONFIG_IN_IMAGE,
      env: runner.env,
    });
  }, 600_000);
  afterAll(async () => {
    await controller?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("is the image's controller: /healthz answers, as uid 65532, from the image's Node", async () => {
    expect(runner.config.User).toBe("65532:65532");
    const health = await fetch(`${controller.url}/healthz`);
    expect(health.status).toBe(200);
    if (runner.mode === "chroot") {
      // The process itself, seen from the host: the image's user, its root and its Node binary.
      const pid = controller.child.pid as number;
      expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
      expect(readlinkSync(`/proc/${pid}/root`)).toBe(runner.rootfs);
      expect(readlinkSync(`/proc/${pid}/exe`)).toBe(join(runner.rootfs, runner.config.Entrypoint[0] as string));
    }
  });

  it("has a read-only root filesystem: every write fails with EROFS, even where the user owns the folder", async () => {
    const probe = `const fs = require("node:fs");
const tried = ["/probe", "/app/dist/probe", "/tmp/probe", "/home/nonroot/probe"].map((p) => {
  try { fs.writeFileSync(p, "x"); return [p, "written"]; } catch (e) { return [p, e.code]; }
});
console.log(JSON.stringify({ uid: process.getuid(), tried: Object.fromEntries(tried) }));`;
    const [command, ...args] = runner.command([runner.config.Entrypoint[0] as string, "-e", probe]);
    const { stdout } = await run(command as string, args, { env: runner.env });
    expect(JSON.parse(stdout)).toEqual({
      uid: 65532,
      tried: { "/probe": "EROFS", "/app/dist/probe": "EROFS", "/tmp/probe": "EROFS", "/home/nonroot/probe": "EROFS" },
    });
  });

  it(
    "drives a canary rollout to completion: [20%, pause 5s, 50%, pause], promote, old pods scaled down",
    () => canaryPromoteFlow({ ns, name: "web" }),
    240_000,
  );
});
