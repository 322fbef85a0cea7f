// Pure: JSON with sorted keys, so the same value always reads the same whatever order its fields came
// in: hashes of templates, comparing objects as written with objects as wanted, signed payloads.

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** JSON with sorted keys: equal values give equal text. */
export const canonicalJson = (value: unknown): string => JSON.stringify(canonical(value));
