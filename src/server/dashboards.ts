// Reads the Grafana dashboards in dashboards/: every PromQL query they run (panel targets, query
// variables, annotations) and the series and labels each one names. The dashboard tests use it to
// check that every query asks only for what Ramp and the traffic sources export, and that every one
// returns data on the dev cluster.
import { readdirSync, readFileSync } from "node:fs";
import { packagePath } from "../package-root.ts";

export interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  includeAll?: boolean;
  datasource?: { uid: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: {
    list: { name: string; expr?: string; titleFormat?: string; textFormat?: string; datasource?: { uid: string } }[];
  };
}

/** One PromQL query of a dashboard, with what names it (panel title, variable, annotation). */
export interface DashboardQuery {
  where: string;
  expr: string;
  /** Labels the legend or annotation text shows ({{label}}). */
  shows: string[];
}

export function loadDashboards(dir = packagePath("dashboards")): { file: string; dashboard: Dashboard }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, dashboard: JSON.parse(readFileSync(`${dir}/${file}`, "utf8")) as Dashboard }));
}

/** Every panel but rows, nested ones included. */
export const panelsOf = (d: Dashboard): Panel[] =>
  d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");

/** Query variables are all `label_values(selector, label)`. */
export function queryVariables(d: Dashboard): { name: string; selector: string; label: string; includeAll: boolean }[] {
  return d.templating.list
    .filter((v) => v.type === "query")
    .map((v) => {
      const query = typeof v.query === "string" ? v.query : v.query.query;
      const [, selector = "", label = ""] = /^label_values\((.*),\s*(\w+)\)$/.exec(query) ?? [];
      return { name: v.name, selector, label, includeAll: v.includeAll === true };
    });
}

const shown = (...formats: (string | undefined)[]) =>
  formats.flatMap((f) => [...(f ?? "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1] ?? ""));

export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  return [
    ...panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr, shows: shown(t.legendFormat) }))),
    ...queryVariables(d).map((v) => ({ where: `variable ${v.name}`, expr: `sum by (${v.label}) (${v.selector})`, shows: [] })),
    ...d.annotations.list.flatMap((a) =>
      a.expr ? [{ where: `annotation ${a.name}`, expr: a.expr, shows: shown(a.titleFormat, a.textFormat) }] : [],
    ),
  ];
}

export interface ParsedPromQL {
  selectors: { metric: string; labels: string[] }[];
  /** Labels it groups or matches by. */
  grouping: string[];
  /** Labels label_replace() makes: [made, from]. */
  replaced: [string, string][];
}

/** The series selectors of a PromQL expression (metric and matcher labels), the labels it groups
 * by, and the labels label_replace() adds. Enough for the dashboards' queries, not a full parser. */
export function parsePromQL(expr: string): ParsedPromQL {
  const grouping: string[] = [];
  const replaced: [string, string][] = [];
  for (const m of expr.matchAll(/,\s*"(\w+)"\s*,\s*"[^"]*"\s*,\s*"(\w+)"\s*,\s*"[^"]*"\s*\)/g))
    replaced.push([m[1] ?? "", m[2] ?? ""]);
  const rest = expr
    // String literals outside matchers (label_replace's arguments) name no series.
    .replace(/([=~]\s*)?"(?:[^"\\]|\\.)*"/g, (literal, matcher?: string) => (matcher ? literal : " "))
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\boffset\s+\S+/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\b\s*(?:\(([^)]*)\))?/g, (_all, labels?: string) => {
      if (labels) grouping.push(...labels.split(",").map((l) => l.trim()));
      return " ";
    });
  const selectors: { metric: string; labels: string[] }[] = [];
  // An identifier followed by "(" is a function or an aggregation; a braced block right after a metric is its matchers.
  for (const m of rest.matchAll(/([a-zA-Z_:][\w:]*)\s*(?:\{([^}]*)\})?(\s*\()?/g)) {
    const [, metric = "", matchers = "", call] = m;
    if (call || ["and", "or", "unless", "bool"].includes(metric)) continue;
    selectors.push({ metric, labels: [...matchers.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? "") });
  }
  return { selectors, grouping, replaced };
}
