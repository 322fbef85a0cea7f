// `ramp analyze -f TEMPLATE.yaml`: measures a template's metrics once, outside any cluster, so people
// can try their queries and thresholds before a rollout depends on them.
// Exit codes: 0 Successful, 1 Failed, 2 Inconclusive, 3 Error (including a template that cannot run).
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseAllDocuments } from "yaml";
import { advanceRun } from "../analysis/evaluate.ts";
import { vanishingNumeratorWarning } from "../analysis/providers/prometheus/vanishing.ts";
import { providerFor } from "../analysis/providers/registry.ts";
import { buildRunSpec, type RunTemplate } from "../analysis/run-spec.ts";
import type { ProviderOutcome } from "../analysis/types.ts";
import { type AnalysisPhase, type AnalysisRunSpec, analysisTemplate, clusterAnalysisTemplate } from "../api/analysis.ts";
import { formatPath, validateObject } from "../api/validate.ts";
import { OutboundDoor, outboundPolicy } from "../net/outbound.ts";

const EXIT: Record<AnalysisPhase, number> = { Successful: 0, Failed: 1, Inconclusive: 2, Error: 3, Pending: 3, Running: 3 };

/** A problem with the input: reported as the Error verdict (exit 3), with the file and field. */
class InputError extends Error {}

interface AnalyzeFlags {
  file: string;
  arg: string[];
  prometheus?: string;
  at?: string;
  output?: string;
}

/** The AnalysisTemplates and ClusterAnalysisTemplates of a YAML file, validated as the apiserver would. */
export function templatesOf(text: string, file: string): RunTemplate[] {
  const templates: RunTemplate[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new InputError(`${file}: ${doc.errors[0]?.message}`);
    const obj = doc.toJS() as unknown;
    if (obj === null) continue;
    const checked = validateObject(obj);
    if (checked.status === "skipped") continue;
    const where = `${file}: ${checked.kind}/${checked.name}`;
    const problem = checked.problems[0];
    if (problem) throw new InputError(`${where}: ${formatPath(problem.path)}: ${problem.message}`);
    if (checked.kind !== "AnalysisTemplate" && checked.kind !== "ClusterAnalysisTemplate") continue;
    const schema = checked.kind === "AnalysisTemplate" ? analysisTemplate : clusterAnalysisTemplate;
    templates.push({ name: checked.name, kind: checked.kind, spec: schema.parse(obj).spec });
  }
  if (!templates.length) throw new InputError(`${file}: no AnalysisTemplate or ClusterAnalysisTemplate in it`);
  return templates;
}

/** `k=v` pairs as run arguments. */
export function argsOf(pairs: string[]): { name: string; value: string }[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InputError(`--arg ${pair}: expected NAME=VALUE`);
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
}

/** Every metric measured once (no interval, count 1), whatever the template says. An error cannot be
 * retried, so it ends the metric (consecutiveErrorLimit 0); otherwise the run would stay Running. */
const once = (spec: AnalysisRunSpec): AnalysisRunSpec => ({
  ...spec,
  metrics: spec.metrics.map(({ interval: _i, initialDelay: _d, ...m }) => ({ ...m, count: 1, consecutiveErrorLimit: 0 })),
});

export async function analyze(flags: AnalyzeFlags): Promise<{ phase: AnalysisPhase; report: unknown; text: string }> {
  const at = flags.at ? new Date(flags.at) : new Date();
  if (Number.isNaN(at.getTime()))
    throw new InputError(`--at ${flags.at}: expected an RFC 3339 time such as 2026-11-23T10:00:00Z`);
  const templates = templatesOf(readFileSync(flags.file, "utf8"), flags.file);
  let spec: AnalysisRunSpec;
  try {
    spec = once(buildRunSpec(templates, argsOf(flags.arg)));
  } catch (err) {
    throw err instanceof InputError ? err : new InputError(`${flags.file}: ${(err as Error).message}`);
  }
  const args: Record<string, string> = {};
  for (const arg of spec.args ?? []) {
    if (arg.value === undefined) {
      throw new InputError(
        `argument "${arg.name}" comes from a Secret or a field of a Rollout; pass it with --arg ${arg.name}=VALUE`,
      );
    }
    args[arg.name] = arg.value;
  }
  const prometheus = flags.prometheus ?? process.env.RAMP_PROMETHEUS_URL;
  const outcomes: Record<string, ProviderOutcome> = {};
  // Your own machine and your own templates: loopback (a port-forwarded Prometheus) is allowed;
  // metadata and link-local addresses stay refused.
  const outbound = new OutboundDoor(await outboundPolicy({ allowLoopback: true }));
  await Promise.all(
    spec.metrics.map(async (metric) => {
      const provider = providerFor(metric);
      outcomes[metric.name] = provider
        ? await provider.measure(metric, { args, now: at, outbound, ...(prometheus ? { defaultPrometheusUrl: prometheus } : {}) })
        : { ok: false, code: "NO_PROVIDER", message: "no known provider" };
    }),
  );
  const { status } = advanceRun(spec, undefined, at, outcomes);
  const phase = status.phase ?? "Error";
  const metrics = (status.metricResults ?? []).map((r) => {
    const m = r.measurements?.at(-1);
    return {
      name: r.name,
      phase: r.phase,
      ...(r.dryRun ? { dryRun: true } : {}),
      ...(m?.value !== undefined ? { value: m.value } : {}),
      ...(m?.message ? { message: m.message } : {}),
      ...(m?.metadata ? { metadata: m.metadata } : {}),
    };
  });
  const lines = metrics.map((m) => {
    const details = [m.value !== undefined ? `value ${m.value}` : "no value", m.message].filter(Boolean).join("; ");
    const query = m.metadata?.query ? `\n    query: ${m.metadata.query}` : "";
    // No value from a ratio that goes empty on a healthy service: say why, or it reads as an outage.
    const warning = m.value === undefined && m.metadata?.query ? vanishingNumeratorWarning(m.metadata.query) : undefined;
    const note = warning ? `\n    note: ${warning}` : "";
    return `  ${m.name.padEnd(24)} ${m.phase.padEnd(12)} ${details}${m.dryRun ? " (dry run)" : ""}${query}${note}`;
  });
  const text = `measured at ${at.toISOString()}\n${lines.join("\n")}\nverdict: ${phase}${status.message ? ` (${status.message})` : ""}`;
  return { phase, report: { at: at.toISOString(), verdict: phase, metrics }, text };
}

export function registerAnalyze(program: Command): void {
  program
    .command("analyze")
    .description("measure an analysis template once against Prometheus and print each metric's verdict")
    .requiredOption("-f, --file <file>", "YAML file with AnalysisTemplate(s) (several are composed)")
    .option("--arg <name=value>", "an argument (repeatable)", (v: string, all: string[]) => [...all, v], [])
    .option("--prometheus <url>", "Prometheus address when a metric names none (default RAMP_PROMETHEUS_URL)")
    .option("--at <time>", "measure at this RFC 3339 time (windows end there)")
    .option("-o, --output <format>", "json for a machine-readable report")
    .action(async (flags: AnalyzeFlags) => {
      try {
        const { phase, report, text } = await analyze(flags);
        console.log(flags.output === "json" ? JSON.stringify(report, null, 2) : text);
        process.exitCode = EXIT[phase];
      } catch (err) {
        if (!(err instanceof InputError) && !(err instanceof Error && "code" in err && err.code === "ENOENT")) throw err;
        console.error(`ramp analyze: ${err.message}`);
        process.exitCode = EXIT.Error;
      }
    });
}
