// `ramp get [rollout] NAME [-w]`, `ramp get rollouts [-w]` and `ramp status NAME [-w] [--timeout D]`:
// the live view of a Rollout. With -w on a terminal (and no -o) the view is redrawn in place, in
// colour, from watches of the Rollout, its ReplicaSets, pods and AnalysisRuns (live-watch.ts).
// Elsewhere it is printed again on each change: a watch on the Rollout wakes it at once, so no phase
// is missed, and a one-second poll catches its ReplicaSets' and AnalysisRuns' changes. `status -w`
// ends with the rollout: 0 Healthy, 1 Degraded, 2 timed out, 3 any error (the first read failing included).
import { setTimeout as sleep } from "node:timers/promises";
import type { Command } from "commander";
import { durationFlag } from "../api/duration.ts";
import { API_VERSION } from "../api/group.ts";
import { kindByName } from "../api/kinds.ts";
import { analysisRuns, readRollout, replicaSets, type Target } from "../rollout/live.ts";
import { type LiveRollout, settled } from "../rollout/operations.ts";
import { rolloutView } from "../rollout/view.ts";
import { ExitError } from "./errors.ts";
import { kubeOptions } from "./kube-options.ts";
import { type ListFlags, printList, RESOURCE } from "./list.ts";
import { colourWanted, liveTerminal, watchRolloutLive } from "./live-watch.ts";
import { renderList, renderStatus } from "./render.ts";
import { connect, formatObject, tableOptions } from "./rollouts.ts";

interface GetFlags extends ListFlags {
  watch?: boolean;
  timeout?: string;
}

const POLL_MS = 1000;

const ROLLOUT_SHORT_NAMES = kindByName("Rollout")?.shortNames ?? [];
/** The names kubectl would accept for the Rollout resource (`kubectl get rro`). */
export const KIND_NAMES = [
  "rollout",
  "rollouts",
  ...ROLLOUT_SHORT_NAMES,
  RESOURCE,
  "rollouts.ramp.dev",
  "rollouts.v1alpha1.ramp.dev",
];

/** `get X [Y]`: X a kind name (Y the Rollout, or none: all of them), or X the Rollout itself. */
export function getArgs(first: string, second: string | undefined): { name?: string } {
  if (KIND_NAMES.includes(first.toLowerCase())) return second === undefined ? {} : { name: second };
  if (second !== undefined)
    throw new Error(
      `the server doesn't have a resource type "${first}" (Ramp serves rollouts, ${ROLLOUT_SHORT_NAMES.join(", ")})`,
    );
  return { name: first };
}

export function registerGet(program: Command): void {
  const command = (usage: string, description: string) =>
    tableOptions(kubeOptions(program.command(usage).description(description))).option(
      "-w, --watch",
      "follow changes: on a terminal (without -o) a live view redrawn in place (NO_COLOR=1: no colour), else the view printed again on each change",
    );
  command(
    "get <rollout-or-kind> [rollout]",
    "show a Rollout (`get NAME`, `get rollout NAME`): phase, steps, weight, ReplicaSets and analysis runs; `get rollouts` lists them",
  )
    .option("-A, --all-namespaces", "with `get rollouts`: every namespace's")
    .action((first: string, second: string | undefined, flags: GetFlags) => {
      const { name } = getArgs(first, second);
      if (name !== undefined) return show(name, flags, () => undefined);
      return printList(flags);
    });
  command("status <rollout>", "like get; with -w, wait for the rollout to end: exit 0 Healthy, 1 Degraded, 2 timed out, 3 error")
    .option("--timeout <duration>", "with -w: how long to wait", "10m")
    // A usage error is an error too: 3, as for any other (help still exits 0).
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 3))
    .action((name: string, flags: GetFlags) =>
      show(name, flags, settled, flags.timeout).catch((err: unknown) => {
        throw new ExitError(err, 3);
      }),
    );
}

/** The text to print, and what must change for it to be printed again (ages aside). */
async function snapshot(target: Target, name: string, flags: GetFlags) {
  const rollout = await readRollout(target, name);
  const output = flags.output;
  const fixed = (text: string) => ({ rollout, text, key: text });
  if (output === "json" || output === "yaml") return fixed(await formatObject(rollout, output));
  if (output === "name") return fixed(`${RESOURCE}/${name}`);
  const view = rolloutView(rollout, await replicaSets(target), await analysisRuns(target, name));
  const text =
    output === "wide"
      ? renderList([view], { allNamespaces: false, wide: true, headers: flags.headers !== false }, new Date())
      : renderStatus(view, new Date());
  return { rollout, text, key: JSON.stringify(view) };
}

async function show(name: string, flags: GetFlags, end: (r: LiveRollout) => number | undefined, timeout?: string) {
  const target = connect(flags);
  const limit = timeout === undefined ? Number.POSITIVE_INFINITY : durationFlag("--timeout", timeout);
  if (!(limit > 0)) throw new Error(`--timeout: expected a duration such as 90s or 10m, got "${timeout}"`);
  const deadline = Date.now() + limit;
  const timedOut = () => {
    console.error(`ramp: rollout "${name}" did not finish within ${timeout}`);
    process.exitCode = 2;
  };
  // The first read decides whether there is anything to watch: any error there ends the command.
  if (flags.watch && flags.output === undefined && liveTerminal()) {
    const rollout = await readRollout(target, name);
    return watchRolloutLive(target, rollout, {
      colour: colourWanted(),
      end,
      ...(Number.isFinite(deadline) ? { deadline: { at: deadline, onTimeout: timedOut } } : {}),
    });
  }
  let current = await snapshot(target, name, flags);
  console.log(current.text);
  if (!flags.watch) return;
  const changes = watchRollout(target, name);
  try {
    for (let last = current.key; ; ) {
      const code = end(current.rollout);
      if (code !== undefined) {
        process.exitCode = code;
        return;
      }
      if (Date.now() >= deadline) return timedOut();
      await changes.next(POLL_MS);
      try {
        current = await snapshot(target, name, flags);
      } catch (err) {
        // A dropped connection (ECONNRESET, a timeout...) is worth waiting out; an answer from the apiserver is not.
        if (typeof (err as { code?: unknown }).code !== "string") throw err;
        console.error(`ramp: ${(err as Error).message}; trying again`);
        continue;
      }
      if (current.key !== last) console.log(`\n${current.text}`);
      last = current.key;
    }
  } finally {
    changes.stop();
  }
}

/** Wakes the view when the Rollout changes; the watch is reopened when it ends or fails. */
function watchRollout(target: Target, name: string) {
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  void (async () => {
    const query = new URLSearchParams({ watch: "1", fieldSelector: `metadata.name=${name}` });
    while (!abort.signal.aborted) {
      try {
        const path = await target.client.path(API_VERSION, "Rollout", target.namespace);
        await target.client.watch(`${path}?${query}`, () => wake?.(), abort.signal);
      } catch {
        // The poll carries the view meanwhile.
        await sleep(POLL_MS, undefined, { signal: abort.signal }).catch(() => undefined);
      }
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
