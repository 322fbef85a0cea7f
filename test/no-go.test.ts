// A machine without Go gets told what to install, and that Ramp itself does not need it.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);

it("ramp dev up without Go says what to install", async () => {
  const cache = mkdtempSync(join(tmpdir(), "ramp-nogo-"));
  const err = await run(process.execPath, ["src/cli/main.ts", "dev", "up", "--name=nogo"], {
    env: { PATH: "/usr/bin:/bin", HOME: cache, RAMP_CACHE_DIR: cache },
  }).catch((e) => e);
  expect(err.code).toBe(1);
  expect(err.stderr).toContain("install Go >= 1.26");
  expect(err.stderr).toContain("Ramp's controller and CLI work against any existing cluster without it");
});
