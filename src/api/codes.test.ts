import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CODES } from "./codes.ts";

const security = readFileSync(join(import.meta.dirname, "../../docs/security.md"), "utf8");

describe("the catalogue of codes", () => {
  it.each(Object.keys(CODES))("%s is SCREAMING_SNAKE and documented in docs/security.md", (code) => {
    expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    expect(security).toContain(`\`${code}\``);
  });
});
