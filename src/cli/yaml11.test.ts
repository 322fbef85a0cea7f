import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { kubectlReading, yaml11Difference } from "./yaml11.ts";

describe("kubectlReading: go-yaml v2's YAML 1.1 resolution of a plain scalar", () => {
  it.each([
    { plain: "010", reading: { type: "number", value: 8 } },
    { plain: "0x1F", reading: { type: "number", value: 31 } },
    { plain: "0X1F", reading: { type: "number", value: 31 } },
    { plain: "-0x10", reading: { type: "number", value: -16 } },
    { plain: "0o17", reading: { type: "number", value: 15 } },
    { plain: "0b101", reading: { type: "number", value: 5 } },
    { plain: "1_000", reading: { type: "number", value: 1000 } },
    { plain: "08", reading: { type: "number", value: 8 } },
    { plain: "1e3", reading: { type: "number", value: 1000 } },
    { plain: ".5", reading: { type: "number", value: 0.5 } },
    { plain: "18446744073709551615", reading: { type: "number", value: 2 ** 64 } },
    { plain: "on", reading: { type: "bool", value: true } },
    { plain: "Off", reading: { type: "bool", value: false } },
    { plain: "y", reading: { type: "bool", value: true } },
    { plain: "NO", reading: { type: "bool", value: false } },
    { plain: "~", reading: { type: "null" } },
    { plain: "1:30", reading: { type: "string" } },
    { plain: "2026-11-22", reading: { type: "string" } },
    { plain: "web", reading: { type: "string" } },
    { plain: "30s", reading: { type: "string" } },
  ])("$plain", ({ plain, reading }) => {
    expect(kubectlReading(plain)).toEqual(reading);
  });
});

describe("yaml11Difference: where kubectl and ramp lint read a value differently", () => {
  it.each([
    { plain: "010", message: "kubectl reads 010 as the number 8, ramp lint (YAML 1.2) as the number 10" },
    { plain: "on", message: 'kubectl reads on as the boolean true, ramp lint (YAML 1.2) as the string "on"' },
    { plain: "n", message: 'kubectl reads n as the boolean false, ramp lint (YAML 1.2) as the string "n"' },
    { plain: "1_000", message: 'kubectl reads 1_000 as the number 1000, ramp lint (YAML 1.2) as the string "1_000"' },
    { plain: "0b11", message: 'kubectl reads 0b11 as the number 3, ramp lint (YAML 1.2) as the string "0b11"' },
    { plain: "+0x10", message: 'kubectl reads +0x10 as the number 16, ramp lint (YAML 1.2) as the string "+0x10"' },
  ])("$plain differs", ({ plain, message }) => {
    expect(yaml11Difference(plain, parse(`v: ${plain}`).v)).toContain(message);
  });

  // Sexagesimal 1:30 is 90 in YAML 1.1's spec, but go-yaml v2 (kubectl) never implemented it: both read a string.
  it.each(["10", "0x1F", "0o17", "true", "false", "null", "1.5", "-3", "1:30", "web", "1e3", "08", ".inf"])(
    "%s is read alike",
    (plain) => {
      expect(yaml11Difference(plain, parse(`v: ${plain}`).v)).toBeUndefined();
    },
  );
});
