// The shell of the live views on a terminal (`status|get NAME -w`, `list -w`): watches (informers)
// fill caches, each change wakes a redraw of the pure frame (live.ts) in place. No polling: a timer
// runs only to tick a timed pause's countdown once a second, and for `status -w --timeout`.
import { API_VERSION } from "../api/group.ts";
import { POD_TEMPLATE_HASH_LABEL } from "../api/pod-template-hash.ts";
import type { KubeObject } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import { rolloutNotFound, type Target } from "../rollout/live.ts";
import { type AnalysisRunObject, type ReplicaSetObject, ROLLOUT_LABEL } from "../rollout/objects.ts";
import type { LiveRollout } from "../rollout/operations.ts";
import { rolloutView } from "../rollout/view.ts";
import { clip, fitText, type LivePod, liveView, redraw, renderLive } from "./live.ts";
import { type ListFormat, renderList } from "./render.ts";

/** Whether stdout is a terminal the live view can redraw in place. */
export const liveTerminal = () => process.stdout.isTTY === true && process.env.TERM !== "dumb";
/** https://no-color.org: any non-empty NO_COLOR turns colour off. */
export const colourWanted = () => !process.env.NO_COLOR;

// Changes come in bursts (a scale-up touches the Rollout, a ReplicaSet and each pod): one frame for them.
const COALESCE_MS = 50;

/** What the loop needs of an informer, whatever it holds. */
type Watched = Pick<Informer<KubeObject>, "hasSynced" | "problem" | "start" | "stop">;

type Render = (now: Date, width: number) => { lines: string[]; end?: () => void; tickUntil?: number };

/** Redraws the frame `render` makes whenever woken (in place, or appended after a blank line when
 * `inPlace` is false); ends when `render` says how, or at the deadline. */
function liveLoop(
  setup: (wake: () => void) => { informers: Watched[]; render: Render },
  inPlace: boolean,
  deadline?: { at: number; onTimeout: () => void },
): Promise<void> {
  const out = process.stdout;
  let height = 0;
  let shown: string | undefined;
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let due = Number.POSITIVE_INFINITY;
    const wake = (ms = COALESCE_MS) => {
      if (Date.now() + ms >= due) return;
      clearTimeout(timer);
      due = Date.now() + ms;
      timer = setTimeout(draw, ms);
    };
    const { informers, render } = setup(() => wake());
    // Lines the terminal rewrapped cannot be counted back up over: a resize starts from a clear screen.
    const onResize = () => {
      out.write("\x1b[H\x1b[2J");
      [height, shown] = [0, undefined];
      wake();
    };
    const limit = deadline && setTimeout(() => finish(deadline.onTimeout), Math.max(deadline.at - Date.now(), 0));
    const finish = (end: () => void) => {
      clearTimeout(timer);
      clearTimeout(limit);
      out.off("resize", onResize);
      for (const i of informers) i.stop();
      try {
        end();
        resolve();
      } catch (err) {
        reject(err);
      }
    };
    function draw() {
      due = Number.POSITIVE_INFINITY;
      // The first frame waits for every cache to fill, or to say why it cannot.
      if (!informers.every((i) => i.hasSynced || i.problem)) return;
      const now = new Date();
      const frame = render(now, inPlace ? out.columns || 80 : Number.POSITIVE_INFINITY);
      // A view that ends with nothing to show (its Rollout deleted) leaves the last frame standing.
      if (frame.end && !frame.lines.length) return finish(frame.end);
      const lines = inPlace ? clip(frame.lines, (out.rows || 24) - 1) : frame.lines;
      const text = lines.join("\n");
      if (text !== shown && inPlace) out.write(redraw(height, lines));
      else if (text !== shown) out.write(`${shown === undefined ? "" : "\n"}${text}\n`);
      [shown, height] = [text, lines.length];
      if (frame.end) return finish(frame.end);
      if (frame.tickUntil !== undefined && frame.tickUntil > now.getTime()) wake(1000 - (now.getTime() % 1000));
    }
    if (inPlace) out.on("resize", onResize);
    // Each informer wakes the view on every change and failure, and once its first list is in
    // (hasSynced is set only after the changes of that list were told).
    for (const i of informers) void i.start().then(() => wake());
  });
}

/** Makes informers of the target's namespace (all: every namespace) that call `wake` on each change
 * or failure; no resync: the watch is enough for a view. */
const informerMaker =
  (target: Target, all: boolean, wake: () => void) =>
  <T extends KubeObject>(apiVersion: string, kind: string, selectors: { labelSelector?: string; fieldSelector?: string }) =>
    new Informer<T>(target.client, {
      apiVersion,
      kind,
      ...(all ? {} : { namespace: target.namespace }),
      ...selectors,
      resyncMs: 0,
      onChange: wake,
      onError: wake,
    });

/** Problems of the caches, one line per kind. */
const problems = (named: [string, Watched][]) =>
  named.flatMap(([kind, i]) => (i.problem ? [`${kind}: ${i.problem} (the watch keeps trying)`] : []));

/** The pods of a Rollout's ReplicaSets: its selector's labels, and the hash label Ramp adds. */
function podSelector(r: LiveRollout): string {
  const labels = Object.entries(r.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  return [...labels, POD_TEMPLATE_HASH_LABEL].join(",");
}

export interface LiveRolloutOptions {
  colour: boolean;
  /** `status -w`: the exit code that ends the view (0 Healthy, 1 Degraded); undefined: watch on. */
  end: (r: LiveRollout) => number | undefined;
  deadline?: { at: number; onTimeout: () => void };
}

/** The live view of one Rollout, from its first read on; a Rollout deleted meanwhile ends it as not found. */
export function watchRolloutLive(target: Target, first: LiveRollout, opts: LiveRolloutOptions): Promise<void> {
  const name = first.metadata.name;
  return liveLoop(
    (wake) => {
      const make = informerMaker(target, false, wake);
      const rollouts = make<LiveRollout>(API_VERSION, "Rollout", { fieldSelector: `metadata.name=${name}` });
      const replicaSets = make<ReplicaSetObject>("apps/v1", "ReplicaSet", { labelSelector: POD_TEMPLATE_HASH_LABEL });
      const pods = make<LivePod>("v1", "Pod", { labelSelector: podSelector(first) });
      const runs = make<AnalysisRunObject>(API_VERSION, "AnalysisRun", { labelSelector: `${ROLLOUT_LABEL}=${name}` });
      const named: [string, Watched][] = [
        ["rollouts", rollouts],
        ["replicasets", replicaSets],
        ["pods", pods],
        ["analysisruns", runs],
      ];
      let rollout = first;
      const render: Render = (now, width) => {
        if (rollouts.hasSynced) {
          const current = rollouts.get(`${target.namespace}/${name}`);
          if (!current) {
            const gone = rolloutNotFound(target, name);
            return {
              lines: [],
              end: () => {
                throw gone;
              },
            };
          }
          rollout = current;
        }
        const view = liveView({
          rollout,
          replicaSets: replicaSets.list(),
          pods: pods.list(),
          runs: runs.list(),
          problems: problems(named),
        });
        const code = opts.end(rollout);
        return {
          lines: renderLive(view, now, width, opts.colour),
          ...(code !== undefined
            ? {
                end: () => {
                  process.exitCode = code;
                },
              }
            : {}),
          ...(view.pauseEndsAt !== undefined ? { tickUntil: view.pauseEndsAt } : {}),
        };
      };
      return { informers: named.map(([, i]) => i), render };
    },
    true,
    opts.deadline,
  );
}

/** `list -w`: the table again on each change, redrawn in place on a terminal. */
export function watchList(target: Target, format: ListFormat, inPlace: boolean): Promise<void> {
  return liveLoop((wake) => {
    const make = informerMaker(target, format.allNamespaces, wake);
    const rollouts = make<LiveRollout>(API_VERSION, "Rollout", {});
    const replicaSets = make<ReplicaSetObject>("apps/v1", "ReplicaSet", { labelSelector: POD_TEMPLATE_HASH_LABEL });
    const named: [string, Watched][] = [
      ["rollouts", rollouts],
      ["replicasets", replicaSets],
    ];
    const render: Render = (now, width) => {
      const rss = replicaSets.list();
      const views = rollouts
        .list()
        .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
        .map((r) => rolloutView(r, rss, []));
      const text = views.length ? renderList(views, format, now) : "No resources found";
      return { lines: [...text.split("\n"), ...problems(named)].map((l) => fitText(l, width)) };
    };
    return { informers: named.map(([, i]) => i), render };
  }, inPlace);
}
