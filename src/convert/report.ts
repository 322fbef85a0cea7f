// Pure: what a conversion says about its input. Every field of an Argo or Flagger object is either
// mapped or reported here as dropped, with the line it is on; notes say what a user must still do.
import { type FieldPath, formatPath } from "../api/validate.ts";

export type FindingKind = "dropped" | "note" | "error";

export interface Finding {
  file: string;
  line: number;
  /** `kind/name`; empty for a document that is not an object. */
  object: string;
  path: FieldPath;
  kind: FindingKind;
  message: string;
}

const LABELS: Record<FindingKind, string> = { dropped: "not converted", note: "note", error: "error" };

/** `FILE:LINE: kind/name: path: not converted: why` (also `note:` and `error:`). */
export const formatFinding = (f: Finding): string =>
  `${f.file}:${f.line}: ${[f.object, formatPath(f.path), `${LABELS[f.kind]}: ${f.message}`].filter(Boolean).join(": ")}`;

/** 0: everything mapped; 1: something was dropped; 3: an input could not be read or converted. */
export function exitCodeOf(findings: readonly Finding[]): 0 | 1 | 3 {
  if (findings.some((f) => f.kind === "error")) return 3;
  return findings.some((f) => f.kind === "dropped") ? 1 : 0;
}

/** Findings in file and line order, notes after drops on the same line. */
export const sortFindings = (findings: readonly Finding[]): Finding[] =>
  [...findings].sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
