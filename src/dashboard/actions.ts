// The dashboard's buttons: the same operations and the same guarded write as the CLI's commands
// (src/rollout/operations.ts, changeRollout), so a button does exactly what `ramp promote` does.
import { changeRollout, replicaSets, type Target } from "../rollout/live.ts";
import { abort, type LiveRollout, pause, promote, type RolloutChange, resume, retry, undo } from "../rollout/operations.ts";

type Operation = (r: LiveRollout, target: Target) => RolloutChange | Promise<RolloutChange>;

/** Action name (the last segment of its URL) -> what it does to the Rollout. */
export const ACTIONS: Record<string, Operation> = {
  promote: (r) => promote(r),
  "promote-full": (r) => promote(r, true),
  abort,
  retry,
  pause,
  resume,
  undo: async (r, target) => undo(r, await replicaSets(target)),
};

export const isAction = (name: string): boolean => Object.hasOwn(ACTIONS, name);

/** Runs one action on the Rollout `name` of the target's namespace; returns what the CLI would print.
 * `guard` sees each change before it is written (and may refuse it by throwing). */
export async function runAction(
  target: Target,
  name: string,
  action: string,
  guard: (change: RolloutChange) => Promise<void> = async () => undefined,
): Promise<string> {
  const op = ACTIONS[action];
  if (!op) throw new Error(`no action "${action}"`);
  const summary = await changeRollout(target, name, async (r) => {
    const change = await op(r, target);
    await guard(change);
    return change;
  });
  return `rollout "${name}" ${summary}`;
}
