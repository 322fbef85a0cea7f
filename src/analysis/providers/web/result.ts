// Pure: the web provider's answer as a measured value. The JSONPath picks values out of the JSON
// answer; conditions compare numbers, so each picked value must read as one: a number as it is,
// true/false as 1/0, a numeric string ("0.5", "NaN") as its number, null as NaN (no data), an array
// of those as a list. An object or another string is WEB_NON_NUMERIC, saying what it was.
import { CodedError } from "../../../api/codes.ts";
import type { MeasuredValue } from "../../types.ts";
import { type PathStep, selectJsonPath, selectsMany } from "./json-path.ts";

export class WebResultError extends CodedError<"WEB_BAD_RESPONSE" | "WEB_NON_NUMERIC"> {
  override name = "WebResultError";
}

/** Longest excerpt of a value shown in a message. */
const SHOWN = 80;
const excerpt = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text;
};

function numberOf(value: unknown, path: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === null) return Number.NaN;
  if (typeof value === "string") {
    const n = value.trim() === "" ? Number.NaN : Number(value);
    if (!Number.isNaN(n) || value.trim() === "NaN") return n;
  }
  const what = Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `the ${typeof value}`;
  throw new WebResultError("WEB_NON_NUMERIC", `${path} gives ${what} ${excerpt(value)}, not a number, boolean or numeric string`);
}

/** The JSON body, or WEB_BAD_RESPONSE. */
export function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new WebResultError("WEB_BAD_RESPONSE", `the answer is not JSON (${(err as Error).message}): ${excerpt(body)}`);
  }
}

/** What `steps` pick from `doc`: undefined when nothing matches (no data), a number for one scalar,
 * a list for an array or several matches (a wildcard). `path` names the path in messages. */
export function resultOf(doc: unknown, steps: readonly PathStep[], path: string): MeasuredValue | undefined {
  const picked = selectJsonPath(doc, steps);
  if (picked.length === 0) return undefined;
  if (!selectsMany(steps) && picked.length === 1) {
    const only = picked[0];
    if (!Array.isArray(only)) return numberOf(only, path);
    return only.length ? only.map((v, i) => numberOf(v, `${path}[${i}]`)) : undefined;
  }
  return picked.map((v) => numberOf(v, path));
}
