// Pure: reading a source object field by field, so that nothing is silently lost. Each field read
// is marked used; `done()` reports every field that was neither used nor dropped with a reason.
import type { FieldPath } from "../api/validate.ts";
import type { Finding } from "./report.ts";

export type Json = Record<string, unknown>;

export const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** One source document being converted: where its findings go and which fields moved where. */
export interface SourceDoc {
  file: string;
  /** `kind/name` of the source object. */
  object: string;
  lineOf: (path: FieldPath) => number;
  findings: Finding[];
  /** Source path -> path in the output document it landed in (for carrying comments over). */
  moves: { from: FieldPath; output: number; to: FieldPath }[];
}

export function report(doc: SourceDoc, kind: Finding["kind"], path: FieldPath, message: string): void {
  doc.findings.push({ file: doc.file, line: doc.lineOf(path), object: doc.object, path, kind, message });
}

/** A mapping of the source, read field by field. `output`/`to` say where its values go, for comments. */
export class Fields {
  private readonly used = new Set<string>();
  readonly doc: SourceDoc;
  readonly path: FieldPath;
  readonly value: Json;
  readonly output: number;
  readonly to: FieldPath;
  constructor(doc: SourceDoc, path: FieldPath, value: Json, output = 0, to: FieldPath = path) {
    this.doc = doc;
    this.path = path;
    this.value = value;
    this.output = output;
    this.to = to;
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  /** The raw value, marked used. */
  get(key: string): unknown {
    this.used.add(key);
    return this.value[key] ?? undefined;
  }

  /** A nested mapping; a value that is not one is dropped with a reason. */
  child(key: string, to: FieldPath = [...this.to, key]): Fields | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isRecord(v)) {
      this.drop(key, "expected a mapping");
      return undefined;
    }
    this.doc.moves.push({ from: [...this.path, key], output: this.output, to });
    return new Fields(this.doc, [...this.path, key], v, this.output, to);
  }

  /** A list of mappings; items that are not mappings are dropped. */
  items(key: string, to: FieldPath = [...this.to, key]): Fields[] {
    const v = this.get(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.drop(key, "expected a list");
      return [];
    }
    this.doc.moves.push({ from: [...this.path, key], output: this.output, to });
    return v.flatMap((item, i) => {
      if (isRecord(item)) return [new Fields(this.doc, [...this.path, key, i], item, this.output, [...to, i])];
      report(this.doc, "dropped", [...this.path, key, i], "expected a mapping");
      return [];
    });
  }

  /** Copies fields with the same meaning (and, by default, name) into `out`. */
  copy(out: Json, keys: string[], rename: Record<string, string> = {}): void {
    for (const key of keys) {
      if (!this.has(key)) {
        this.used.add(key);
        continue;
      }
      const outKey = rename[key] ?? key;
      out[outKey] = this.get(key);
      this.moved(key, [...this.to, outKey]);
    }
  }

  /** Records that the field `key` landed at `to` in output `output` (default: this one's). */
  moved(key: string, to: FieldPath, output = this.output): void {
    this.doc.moves.push({ from: [...this.path, key], output, to });
  }

  drop(key: string, why: string): void {
    this.used.add(key);
    if (this.has(key)) report(this.doc, "dropped", [...this.path, key], why);
  }

  /** Drops each of these fields that is present, with its reason. */
  dropEach(reasons: Record<string, string>): void {
    for (const [key, why] of Object.entries(reasons)) this.drop(key, why);
  }

  note(key: string, message: string): void {
    report(this.doc, "note", key ? [...this.path, key] : this.path, message);
  }

  /** Marks fields as read without a report: state of the other controller, server-populated metadata. */
  ignore(keys: string[]): void {
    for (const k of keys) this.used.add(k);
  }

  /** Reports every field not read: none may vanish silently. */
  done(why = "no such field in Ramp"): void {
    for (const key of Object.keys(this.value)) if (!this.used.has(key)) this.drop(key, why);
  }
}
