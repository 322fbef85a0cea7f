// The text views of `ramp get|status` and `ramp list`. Pure: views (src/rollout/view.ts) and a clock in, text out.
import type { RolloutView } from "../rollout/view.ts";

/** An age as kubectl prints it (apimachinery's HumanDuration): about two significant figures,
 * `45s`, `3m20s`, `20m`, `3h`, `5d`, `2y`; up to 2 s in the future is clock skew, "0s". */
export function humanAge(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const both = (big: number, unit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${unit}` : `${big}${unit}${small}${smallUnit}`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return both(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return both(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return both(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return both(years, "y", days % 365, "d");
  return `${years}y`;
}

const age = (created: string | undefined, now: Date) =>
  created ? humanAge(now.getTime() - new Date(created).getTime()) : "<unknown>";

/** Columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}

const indent = (text: string) => text.replace(/^/gm, "  ");
const stepOf = (v: RolloutView) => (v.strategy === "Canary" ? `${Math.min(v.stepIndex, v.steps.length)}/${v.steps.length}` : "-");
const weightOf = (v: RolloutView) => (v.weight === undefined ? "-" : `${v.weight}%`);

export function renderStatus(v: RolloutView, now: Date): string {
  const lines = [
    `Name:       ${v.name}`,
    `Namespace:  ${v.namespace}`,
    `Strategy:   ${v.strategy}`,
    `Phase:      ${v.phase} — ${v.message}`,
    `Images:     ${v.images}`,
    `Replicas:   ${v.ready}/${v.desired} ready`,
  ];
  if (v.strategy === "Canary") {
    lines.push(`Weight:     ${weightOf(v)}`, `Steps:      ${v.steps.length ? `${stepOf(v)} done` : "none"}`);
    const n = v.steps.length;
    for (const [i, step] of v.steps.entries()) {
      lines.push(`  ${i < v.stepIndex ? "✓" : i === v.stepIndex ? "→" : " "} ${i + 1}/${n} ${step}`);
    }
  }
  lines.push("ReplicaSets:");
  lines.push(
    indent(
      table([
        ["REVISION", "HASH", "ROLE", "IMAGES", "READY", "AGE"],
        ...v.replicaSets.map((rs) => [
          rs.revision,
          rs.hash,
          rs.role,
          rs.images,
          `${rs.ready}/${rs.desired}`,
          age(rs.created, now),
        ]),
      ]),
    ),
  );
  if (v.runs.length) {
    lines.push("Analysis runs:");
    lines.push(
      indent(table([["NAME", "ROLE", "PHASE", "AGE"], ...v.runs.map((r) => [r.name, r.role, r.phase, age(r.created, now)])])),
    );
  }
  return lines.join("\n");
}

export interface ListFormat {
  allNamespaces: boolean;
  /** -o wide: the images and the controller's message too. */
  wide: boolean;
  /** --no-headers: rows only. */
  headers: boolean;
}

export function renderList(views: RolloutView[], format: ListFormat, now: Date): string {
  const ns = (cell: string) => (format.allNamespaces ? [cell] : []);
  const wide = (...cells: string[]) => (format.wide ? cells : []);
  const header = [
    "NAME",
    ...ns("NAMESPACE"),
    "STRATEGY",
    "PHASE",
    "STEP",
    "WEIGHT",
    "READY",
    "AGE",
    ...wide("IMAGES", "MESSAGE"),
  ];
  const rows = views.map((v) => [
    v.name,
    ...ns(v.namespace),
    v.strategy,
    v.phase,
    stepOf(v),
    weightOf(v),
    `${v.ready}/${v.desired}`,
    age(v.created, now),
    ...wide(v.images, v.message),
  ]);
  return table(format.headers ? [header, ...rows] : rows);
}
