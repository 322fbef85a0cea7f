// The conversion corpus: realistic Argo Rollouts and Flagger manifests in test/convert-corpus/, each
// with the report it must give (NAME.report) and output that `ramp lint` accepts.
// RAMP_UPDATE_GOLDEN=1 rewrites the reports; review the diff before committing it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lintText } from "../cli/lint.ts";
import { convertFiles } from "./convert.ts";
import { exitCodeOf, formatFinding, sortFindings } from "./report.ts";

const CORPUS = join(import.meta.dirname, "../../test/convert-corpus");
const cases = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".yaml"))
  .sort();

describe("the conversion corpus", () => {
  it("has at least 30 manifests", () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)("%s converts with its expected report, and the output lints clean", (file) => {
    const { outputs, findings } = convertFiles([{ file, text: readFileSync(join(CORPUS, file), "utf8") }]);
    const code = exitCodeOf(findings);
    const report = `${[...sortFindings(findings).map(formatFinding), `exit ${code}`].join("\n")}\n`;
    const golden = join(CORPUS, file.replace(/\.yaml$/, ".report"));
    if (process.env.RAMP_UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, report);
    expect(report).toBe(readFileSync(golden, "utf8"));
    expect(code).not.toBe(3);
    const lint = outputs.flatMap((o) => lintText(o.text, `${file} (converted)`)).filter((f) => f.severity === "error");
    expect(lint).toEqual([]);
  });
});
