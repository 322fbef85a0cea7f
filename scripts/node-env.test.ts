import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const script = new URL("./node-env.sh", import.meta.url).pathname;

it("downloads nothing when the Node on PATH is new enough", async () => {
  const cache = mkdtempSync(join(tmpdir(), "ramp-cache-"));
  const { stdout, stderr } = await run("bash", ["-c", `. ${script} && ramp_ensure_node && command -v node`], {
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, RAMP_CACHE_DIR: cache, HOME: cache },
  });
  expect(stdout.trim()).toBe(process.execPath);
  expect(stderr).toBe("");
  expect(existsSync(join(cache, "node"))).toBe(false);
});
