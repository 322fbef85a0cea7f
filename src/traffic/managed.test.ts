import { expect, it } from "vitest";
import { asRegex, isManaged, managedName } from "./managed.ts";

it.each([
  { match: { exact: "a.b" }, want: "^a\\.b$" },
  { match: { prefix: "qa+" }, want: "^qa\\+.*" },
  { match: { regex: "1|true" }, want: "1|true" },
])("asRegex($match) is $want", ({ match, want }) => {
  expect(asRegex(match)).toBe(want);
  const re = new RegExp(want);
  const sample = match.exact ?? (match.prefix !== undefined ? `${match.prefix}x` : "true");
  expect(re.test(sample)).toBe(true);
});

it.each([
  { name: managedName("beta"), want: true },
  { name: "ramp-beta", want: false },
  { name: undefined, want: false },
])("isManaged($name) is $want", ({ name, want }) => {
  expect(isManaged(name)).toBe(want);
});
