// Ramp's API group and version, in a module of its own: the CLI's cluster commands and `version`
// need the string, not the schemas (and zod) that src/api/kinds.ts brings.
export const API_GROUP = "ramp.dev";
export const API_VERSION = `${API_GROUP}/v1alpha1`;
