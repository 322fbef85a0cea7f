// `ramp demo` as a newcomer runs it: its own local cluster, the story, a summary, exit 0, nothing left.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { devState } from "../src/dev/up.ts";

it("ramp demo: the good version is promoted, the bad one rolled back by analysis, and it cleans up", async () => {
  const name = `demo-test-${process.pid}`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(import.meta.dirname, "../src/cli/main.ts"), "demo", "--cluster-name", name],
    { maxBuffer: 10 * 1024 * 1024 },
  );
  expect(stdout).toMatch(/v2 \(good\): walked .* promoted in/);
  expect(stdout).toMatch(/v3 \(bad\): {2}error rate \d+(\.\d)?% > 5% caught; rolled back/);
  expect(stdout).toMatch(/now: +stable is \w+ \(v2\), canary traffic 0%/);
  expect(devState(name)).toBeUndefined();
}, 600_000);
