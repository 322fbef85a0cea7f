// Pure replica maths: how many pods each ReplicaSet should have on this reconcile, moving towards
// the step's targets without more than `replicas + maxSurge` pods or fewer than
// `replicas - maxUnavailable` available ones — the Deployment rules, applied to canary steps.

/** `"25%"` of `total`, or an absolute count; surge rounds up and unavailability down, as in a
 * Deployment. */
export function resolveIntOrPercent(value: number | string | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) return resolveIntOrPercent("25%", total, roundUp);
  if (typeof value === "number") return value;
  const exact = (total * Number.parseInt(value, 10)) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable for `replicas`; both zero would deadlock, so unavailable becomes 1. */
export function rollingLimits(
  replicas: number,
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
) {
  const surge = resolveIntOrPercent(maxSurge, replicas, true);
  const unavailable = resolveIntOrPercent(maxUnavailable, replicas, false);
  return { maxSurge: surge, maxUnavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/** Canary pods for a weight (or an explicit setCanaryScale), and the stable pods beside them. With no
 * traffic router the weight is carried by the replica counts, so stable gives up what canary takes;
 * behind a router stable keeps every pod (it may still get all the traffic back at once) unless
 * `shrinkStable` (dynamicStableScale) says to give up what the canary's weight takes. */
export function canaryTargets(
  replicas: number,
  weight: number,
  scale?: { replicas?: number; weight?: number; matchTrafficWeight?: boolean },
  routed?: { shrinkStable: boolean },
): { canary: number; stable: number } {
  const canary =
    scale?.replicas !== undefined
      ? scale.replicas
      : Math.ceil((replicas * (scale?.weight !== undefined ? scale.weight : weight)) / 100);
  const trafficCanary = Math.ceil((replicas * weight) / 100);
  const keepStable = routed !== undefined && !routed.shrinkStable;
  return { canary, stable: keepStable ? replicas : Math.max(0, replicas - trafficCanary) };
}

export interface ReplicaSetCounts {
  name: string;
  /** .spec.replicas */
  replicas: number;
  available: number;
}

/** The replicas each ReplicaSet should be set to now. `targets` names the goal of each ReplicaSet;
 * any not named goes to zero. Scale-ups spend the surge room; scale-downs first remove pods that
 * are not available, then available ones while availability stays at or above the minimum. */
export function rollingStep(
  sets: ReplicaSetCounts[],
  targets: Record<string, number>,
  limits: { replicas: number; maxSurge: number; maxUnavailable: number },
): Record<string, number> {
  const next: Record<string, number> = Object.fromEntries(sets.map((s) => [s.name, s.replicas]));
  const total = sets.reduce((n, s) => n + s.replicas, 0);
  let surgeRoom = Math.max(0, limits.replicas + limits.maxSurge - total);
  // Scale up, in the order given (the caller lists the new ReplicaSet first).
  for (const s of sets) {
    const goal = targets[s.name] ?? 0;
    if (s.replicas < goal) {
      const add = Math.min(goal - s.replicas, surgeRoom);
      next[s.name] = s.replicas + add;
      surgeRoom -= add;
    }
  }
  // Scale down: ReplicaSets with no target first (old revisions), then the others.
  let availableBudget = Math.max(0, sets.reduce((n, s) => n + s.available, 0) - (limits.replicas - limits.maxUnavailable));
  const order = [...sets].sort((a, b) => Number(b.name in targets ? 0 : 1) - Number(a.name in targets ? 0 : 1));
  for (const s of order) {
    const goal = targets[s.name] ?? 0;
    const excess = s.replicas - goal;
    if (excess <= 0) continue;
    const notAvailable = Math.max(0, s.replicas - s.available);
    const free = Math.min(excess, notAvailable);
    const fromAvailable = Math.min(excess - free, availableBudget);
    availableBudget -= fromAvailable;
    next[s.name] = s.replicas - free - fromAvailable;
  }
  return next;
}
