// `ramp convert -f FILE|DIR|- [-o DIR] [--strict]`: Argo Rollouts and Flagger manifests as Ramp's.
// The manifests go to standard output (or -o DIR, one file per input), the report to standard error.
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { Command } from "commander";
import { convertFiles, type Input } from "../convert/convert.ts";
import { exitCodeOf, formatFinding, sortFindings } from "../convert/report.ts";
import { readInput, withFileInputs } from "./lint.ts";

/** Each YAML file to read, with the name its output gets under -o DIR. */
function files(inputs: string[]): { path: string; name: string }[] {
  return inputs.flatMap((input) => {
    if (input === "-") return [{ path: "-", name: "stdin.yaml" }];
    if (!statSync(input, { throwIfNoEntry: false })?.isDirectory()) return [{ path: input, name: basename(input) }];
    return readdirSync(input, { recursive: true, encoding: "utf8" })
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => ({ path: join(input, f), name: relative(input, join(input, f)) }));
  });
}

export function registerConvert(program: Command): void {
  withFileInputs(
    program
      .command("convert")
      .description("convert Argo Rollouts and Flagger manifests to Ramp's; report every field not converted"),
  )
    .option("-o, --output-dir <dir>", "write one file per input here instead of to standard output")
    .option("--strict", "write nothing when anything would be dropped")
    .addHelpText(
      "after",
      "\nExit status: 0 everything converted, 1 something not converted (reported on standard error), 3 an input could not be read or converted.",
    )
    .action((positional: string[], options: { filename: string[]; outputDir?: string; strict?: boolean }) => {
      const named = [...options.filename, ...positional];
      if (named.length === 0) {
        console.error("error: ramp convert needs a file, a folder or - (as arguments or with -f)");
        process.exitCode = 3;
        return;
      }
      const inputs: Input[] = [];
      const names = new Map<string, string>();
      let unreadable = false;
      for (const { path, name } of files(named)) {
        const input = readInput(path);
        const file = path === "-" ? "<stdin>" : path;
        if ("error" in input) {
          console.error(`${file}: cannot read: ${input.error}`);
          unreadable = true;
          continue;
        }
        inputs.push({ file, text: input.text });
        names.set(file, name);
      }
      const { outputs, findings } = convertFiles(inputs);
      for (const f of sortFindings(findings)) console.error(formatFinding(f));
      const code = unreadable ? 3 : exitCodeOf(findings);
      process.exitCode = code;
      if (code === 3 || (code === 1 && options.strict)) {
        if (code === 1) console.error("--strict: nothing written, because something would be dropped");
        return;
      }
      const dir = options.outputDir;
      if (!dir) {
        process.stdout.write(outputs.map((o) => o.text).join("---\n"));
        return;
      }
      for (const o of outputs) {
        const target = join(dir, names.get(o.file) ?? basename(o.file));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, o.text);
      }
    });
}
