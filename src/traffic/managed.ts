// Pure: what every router shares about the rules Ramp adds to a user's object. They carry a name
// with Ramp's prefix, so that removing them never touches a rule the user wrote.
import type { HeaderRoute, MirrorRoute } from "../api/desired-traffic.ts";

const MANAGED_PREFIX = "ramp-managed-";

export const managedName = (route: string) => `${MANAGED_PREFIX}${route}`;

export const isManaged = (name: string | undefined) => name?.startsWith(MANAGED_PREFIX) === true;

export type StringMatch = HeaderRoute["match"][number]["headerValue"];
export type MirrorMatch = MirrorRoute["match"][number];

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A string match as one regular expression, for routers whose only non-exact match is a regex. */
export function asRegex(m: StringMatch): string {
  if (m.exact !== undefined) return `^${escapeRegex(m.exact)}$`;
  if (m.prefix !== undefined) return `^${escapeRegex(m.prefix)}.*`;
  return m.regex ?? "";
}
