// `ramp get ROLLOUT [-w]` and `ramp status ROLLOUT [-w] [--timeout D]`: the live view of a Rollout.
// With -w the view is printed again on each change: a watch on the Rollout wakes it at once, so no
// phase is missed, and a one-second poll catches its ReplicaSets' and AnalysisRuns' changes;
// `status -w` ends with the rollout: 0 Healthy, 1 Degraded, 2 timed out.
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { durationFlag } from "../api/duration.ts";
import { API_VERSION } from "../api/kinds.ts";
import { type LiveRollout, settled } from "../rollout/operations.ts";
import { type KubeFlags, kubeOptions } from "./kube-options.ts";
import { renderStatus, rolloutView } from "./render.ts";
import {
  analysisRuns,
  connect,
  type Format,
  formatObject,
  outputOption,
  readRollout,
  replicaSets,
  type Target,
} from "./rollouts.ts";

interface GetFlags extends KubeFlags {
  watch?: boolean;
  timeout?: string;
  output?: Format;
}

const POLL_MS = 1000;

export function registerGet(program: Command): void {
  const command = (usage: string, description: string) =>
    kubeOptions(program.command(usage).description(description))
      .option("-w, --watch", "print the view again on each change")
      .addOption(outputOption());
  command("get <rollout>", "show a Rollout: phase, steps, weight, ReplicaSets and analysis runs").action(
    (name: string, flags: GetFlags) => show(name, flags, () => undefined),
  );
  command("status <rollout>", "like get; with -w, wait for the rollout to end: exit 0 Healthy, 1 Degraded, 2 timed out")
    .option("--timeout <duration>", "with -w: how long to wait", "10m")
    .action((name: string, flags: GetFlags) => show(name, flags, settled, flags.timeout));
}

/** The text to print, and what must change for it to be printed again (ages aside). */
async function snapshot(target: Target, name: string, output: Format | undefined) {
  const rollout = await readRollout(target, name);
  if (output) {
    const text = formatObject(rollout, output);
    return { rollout, text, key: text };
  }
  const view = rolloutView(rollout, await replicaSets(target), await analysisRuns(target, name));
  return { rollout, text: renderStatus(view, new Date()), key: JSON.stringify(view) };
}

async function show(name: string, flags: GetFlags, end: (r: LiveRollout) => number | undefined, timeout?: string) {
  const target = connect(flags);
  if (!flags.watch) {
    console.log((await snapshot(target, name, flags.output)).text);
    return;
  }
  const limit = timeout === undefined ? Number.POSITIVE_INFINITY : durationFlag("--timeout", timeout);
  const deadline = Date.now() + limit;
  const changes = watchRollout(target, name);
  let last: string | undefined;
  for (;;) {
    try {
      const { rollout, text, key } = await snapshot(target, name, flags.output);
      if (key !== last) console.log(`${last === undefined ? "" : "\n"}${text}`);
      last = key;
      const code = end(rollout);
      if (code !== undefined) {
        process.exitCode = code;
        changes.stop();
        return;
      }
    } catch (err) {
      // A dropped connection (ECONNRESET...) is worth waiting out; an answer from the apiserver is not.
      if (typeof (err as { code?: unknown }).code !== "string") throw err;
      console.error(`ramp: ${(err as Error).message}; trying again`);
    }
    if (Date.now() >= deadline) {
      console.error(`ramp: rollout "${name}" did not finish within ${timeout}`);
      process.exitCode = 2;
      changes.stop();
      return;
    }
    await changes.next(POLL_MS);
  }
}

/** Wakes the view when the Rollout changes; the watch is reopened when the apiserver ends it. */
function watchRollout(target: Target, name: string) {
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  void (async () => {
    const path = await target.client.path(API_VERSION, "Rollout", target.namespace);
    const query = new URLSearchParams({ watch: "1", fieldSelector: `metadata.name=${name}` });
    while (!abort.signal.aborted) {
      await target.client.watch(`${path}?${query}`, () => wake?.(), abort.signal).catch(() => sleep(POLL_MS));
    }
  })();
  return {
    /** Resolves on the next change of the Rollout, or after `ms`. */
    next: (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    stop: () => abort.abort(),
  };
}
