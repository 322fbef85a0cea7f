// vitest globalSetup: one dev cluster per test run, shared by every integration test file; each
// test makes its own namespace. Stopped at the end of the run, whatever happened.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { cacheRoot } from "../../src/dev/cluster.ts";
import { isAlive } from "../../src/dev/processes.ts";
import { type DevCluster, devDown, devUp } from "../../src/dev/up.ts";

const NAME = `test-${process.pid}`;

declare module "vitest" {
  export interface ProvidedContext {
    cluster: DevCluster;
  }
}

/** Clusters of earlier test runs whose vitest process died before its teardown. */
async function stopOrphans(): Promise<void> {
  const dir = join(cacheRoot(), "dev");
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const owner = /^(?:test|updown)-(\d+)$/.exec(name)?.[1];
    if (owner && !isAlive(Number(owner))) await devDown(name);
  }
}

export default async function setup(project: TestProject) {
  await stopOrphans();
  const cluster = await devUp({ name: NAME, nodes: 3, log: (l) => console.error(`[dev cluster] ${l}`) });
  project.provide("cluster", cluster);
  return async () => {
    await devDown(NAME);
  };
}
