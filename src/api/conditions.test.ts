import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { KSTATUS_REASONS } from "./conditions.ts";

const api = readFileSync(new URL("../../docs/api.md", import.meta.url), "utf8");
const section = api.slice(api.indexOf("## Conditions for GitOps tools"));

describe("the catalogue of kstatus reasons", () => {
  it.each(Object.keys(KSTATUS_REASONS))("%s is CamelCase and in docs/api.md's table of reasons", (reason) => {
    expect(reason).toMatch(/^[A-Z][a-zA-Z]+$/);
    expect(section).toMatch(new RegExp(`^\\| \`${reason}\` `, "m"));
  });
});
