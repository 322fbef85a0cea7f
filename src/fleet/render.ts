// Pure: a FleetRollout as `ramp fleet status` prints it — the fleet, then each wave and its clusters.
import type { FleetRolloutStatus } from "../api/fleet.ts";

export function renderFleet(name: string, namespace: string, status: FleetRolloutStatus | undefined): string {
  const s = status ?? {};
  const lines = [
    `FleetRollout ${namespace}/${name}: ${s.phase ?? "Pending"}${s.revision ? ` (revision ${s.revision})` : ""}`,
    ...(s.message ? [`  ${s.message}`] : []),
  ];
  for (const [i, w] of (s.waves ?? []).entries()) {
    const marker = i === s.currentWave && (s.phase === "Progressing" || s.phase === "RollingBack") ? "▶" : " ";
    const run = w.analysisRun ? `  analysis ${w.analysisRun.name}: ${w.analysisRun.phase ?? "Pending"}` : "";
    lines.push(
      `${marker} wave ${i + 1} ${w.name}: ${w.phase}${w.message && w.message !== w.phase ? ` — ${w.message}` : ""}${run}`,
    );
    for (const c of w.clusters) {
      const reach = c.reachable === false ? ` (unreachable${c.code ? `: ${c.code}` : ""})` : c.code ? ` (${c.code})` : "";
      lines.push(`    ${c.name}: ${c.phase}${reach}${c.message ? ` — ${c.message}` : ""}`);
    }
  }
  return lines.join("\n");
}

/** Whether `status -w` is done, and its exit code: 0 Healthy, 1 stopped (Degraded or rolled back). */
export function fleetOutcome(status: FleetRolloutStatus | undefined, generation: number): number | undefined {
  if (!status || status.observedGeneration !== generation) return undefined;
  if (status.phase === "Healthy") return 0;
  if (status.phase === "Degraded" || status.phase === "RolledBack") return 1;
  return undefined;
}
