import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CONDITION_REASONS,
  ConditionReason,
  EVENT_REASONS,
  EventReason,
  KSTATUS_REASONS,
  KstatusReason,
  PAUSE_REASONS,
  PauseReason,
} from "./reasons.ts";
import { renderReasons } from "./reference.ts";

const CATALOGUES = [
  { name: "EventReason", descriptions: EVENT_REASONS, constants: EventReason },
  { name: "ConditionReason", descriptions: CONDITION_REASONS, constants: ConditionReason },
  { name: "KstatusReason", descriptions: KSTATUS_REASONS, constants: KstatusReason },
  { name: "PauseReason", descriptions: PAUSE_REASONS, constants: PauseReason },
];

const SRC = join(import.meta.dirname, "..");
// kube/ reads the apiserver's own reasons (a Status' AlreadyExists), which are Kubernetes', not Ramp's.
const sources = readdirSync(SRC, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== join("api", "reasons.ts") && !f.startsWith(`kube${sep}`))
  .map((f) => ({ file: relative(SRC, join(SRC, f)), text: readFileSync(join(SRC, f), "utf8") }));

// A CamelCase string where a reason goes: `reason: "X"`, `reason === "X"`, `const reason = "X"`, `.event("X"`.
// (A CamelCase name: other strings in those places, such as a signature check's MALFORMED, are no reason.)
const CAMEL = `"([A-Z][a-z]+(?:[A-Z][a-z0-9]*)+)"`;
const REASON_LITERALS = [
  new RegExp(String.raw`\breason\s*(?::|===|!==|=)\s*${CAMEL}`, "g"),
  new RegExp(String.raw`\.event\(\s*${CAMEL}`, "g"),
];

describe("the catalogue of reasons", () => {
  it.each(CATALOGUES)("$name: CamelCase names, each its own constant, each meaning one line of its own", (c) => {
    const names = Object.keys(c.descriptions);
    for (const name of names) expect(name).toMatch(/^[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+$/);
    expect(c.constants).toEqual(Object.fromEntries(names.map((n) => [n, n])));
    const meanings = Object.values(c.descriptions);
    for (const meaning of meanings) expect(meaning).toMatch(/^[^\n]{10,}$/);
    expect(new Set(meanings).size).toBe(meanings.length);
  });

  it("names never change: scripts and alerts match on them", () => {
    expect(Object.fromEntries(CATALOGUES.map((c) => [c.name, Object.keys(c.descriptions)]))).toMatchInlineSnapshot(`
      {
        "ConditionReason": [
          "ReplicaSetUpdated",
          "RolloutPaused",
          "RolloutCompleted",
          "RolloutAborted",
          "ProgressDeadlineExceeded",
          "TrafficRoutingError",
          "InvalidSpec",
          "StableReplicaSetRecreated",
          "StableReplicaSetLost",
        ],
        "EventReason": [
          "RolloutUpdated",
          "StepCompleted",
          "RolloutPaused",
          "RolloutResumed",
          "RolloutPromoted",
          "RolloutCompleted",
          "RolloutAborted",
          "RolloutRetried",
          "RolloutRestarted",
          "AnalysisRunSuccessful",
          "AnalysisRunFailed",
          "AnalysisRunInconclusive",
          "AnalysisRunError",
          "GateFailed",
          "ErrorBudgetAvailable",
          "DestinationNotAllowed",
          "ProgressDeadlineExceeded",
          "InvalidSpec",
          "TrafficRoutingError",
          "StableReplicaSetRecreated",
          "StableReplicaSetLost",
          "RevisionHistoryFailed",
          "NotificationDeadLettered",
          "RevisionStarted",
          "WaveStarted",
          "ClusterUpdated",
          "ClusterHealthy",
          "ClusterUnreachable",
          "WaveHeld",
          "AnalysisStarted",
          "WaveHealthy",
          "FleetHealthy",
          "FleetStopped",
          "ClusterRollingBack",
          "ClusterRolledBack",
          "FleetRolledBack",
        ],
        "KstatusReason": [
          "RolloutCompleted",
          "RolloutProgressing",
          "RolloutPaused",
          "TrafficRoutingError",
          "RolloutAborted",
          "ProgressDeadlineExceeded",
          "InvalidSpec",
        ],
        "PauseReason": [
          "CanaryPauseStep",
          "BlueGreenPause",
          "InconclusiveAnalysisRun",
          "GateFailed",
          "ErrorBudgetSpent",
        ],
      }
    `);
  });

  it.each([
    ['reason: "WaveHeld"', "WaveHeld"],
    ['d.event(\n      "RolloutUpdated",', "RolloutUpdated"],
    ['p.reason === "CanaryPauseStep"', "CanaryPauseStep"],
    ['const reason = "DestinationNotAllowed";', "DestinationNotAllowed"],
    ['reason: "MALFORMED"', undefined],
    ['reason: problems.join("; ")', undefined],
  ])("the scan finds the reason in %j", (line, reason) => {
    expect(REASON_LITERALS.flatMap((pattern) => [...line.matchAll(pattern)].map((m) => m[1]))).toEqual(reason ? [reason] : []);
  });

  it("every reason written as a string in src/ is in the catalogue", () => {
    const known = new Set(CATALOGUES.flatMap((c) => Object.keys(c.descriptions)));
    const unknown = sources.flatMap(({ file, text }) =>
      REASON_LITERALS.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => `${file}: ${m[1]}`)),
    );
    expect(unknown.filter((found) => !known.has(found.split(": ")[1] ?? ""))).toEqual([]);
  });

  it.each(CATALOGUES)("$name: every name is written somewhere in src/ (none is kept for nothing)", (c) => {
    const unused = Object.keys(c.descriptions).filter(
      (name) => !sources.some(({ text }) => text.includes(`${c.name}.${name}`) || text.includes(`"${name}"`)),
    );
    expect(unused).toEqual([]);
  });

  it("docs/reasons.md is what `npm run gen:docs` writes", () => {
    expect(readFileSync(join(SRC, "../docs/reasons.md"), "utf8")).toBe(renderReasons());
  });
});
