// The one duration parser: Go-style strings (`30s`, `1h30m`, `250ms`) or whole seconds, strictly.
// Used by the schemas (so `ramp lint`, the CRD and the controller agree), the planners and every
// CLI flag that takes a duration. Refused: unknown units (`1d`), stray text (`10x5m`, `1h-5m`), an
// empty string, a bare number in a string, and anything past MAX_DURATION_MS.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration, as the CRD's pattern: one or more number-unit pairs. */
export const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;

/** Longest duration anywhere in the API: one year. Fields document smaller maxima where they have one. */
export const MAX_DURATION_SECONDS = 365 * 24 * 3600;
export const MAX_DURATION_MS = MAX_DURATION_SECONDS * 1000;

export type ParsedDuration = { ok: true; ms: number } | { ok: false; message: string };

/** Milliseconds of `value`, or why it is not a duration of at most `maxMs`. */
export function parseDuration(value: number | string, maxMs = MAX_DURATION_MS): ParsedDuration {
  let ms: number;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) return { ok: false, message: `must be whole seconds, got ${value}` };
    ms = value * 1000;
  } else {
    if (!GO_DURATION.test(value)) {
      return {
        ok: false,
        message: `must be a duration like 30s, 5m or 1h30m (units ns, us, ms, s, m, h), got ${JSON.stringify(value.slice(0, 40))}`,
      };
    }
    ms = 0;
    for (const [, amount, unit] of value.matchAll(PART)) ms += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  if (!(ms <= maxMs)) return { ok: false, message: `must be at most ${formatDuration(maxMs)}` };
  return { ok: true, ms };
}

/** Milliseconds of a duration the schema has admitted; throws on anything else. */
export function durationMs(value: number | string, maxMs = MAX_DURATION_MS): number {
  const parsed = parseDuration(value, maxMs);
  if (!parsed.ok) throw new Error(`duration ${JSON.stringify(value)} ${parsed.message}`);
  return parsed.ms;
}

/** A CLI flag's duration: a Go-style string only (a bare number has no unit), named in the error. */
export function durationFlag(flag: string, value: string, maxMs = MAX_DURATION_MS): number {
  const parsed = parseDuration(value, maxMs);
  if (!parsed.ok) throw new Error(`${flag}: ${parsed.message}`);
  return parsed.ms;
}

/** The largest whole unit that divides `ms`: `8760h`, `5m`, `1500ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
