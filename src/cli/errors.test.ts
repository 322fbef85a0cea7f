import { describe, expect, it } from "vitest";
import { KubeConfigError } from "../kube/client.ts";
import { ExitError, exitCodeOf, exitLine } from "./errors.ts";

describe("how a failed command ends", () => {
  it.each<[string, unknown, string]>([
    ["an error", new KubeConfigError("no"), "error: no"],
    ["through an exit code", new ExitError(new KubeConfigError("no"), 3), "error: no"],
    ["through two", new ExitError(new ExitError(new Error("x"), 2), 3), "ramp: x"],
  ])("the line of %s", (_, err, line) => {
    expect(exitLine(err)).toBe(line);
  });

  it.each([
    [new Error("x"), 1],
    [new ExitError(new Error("x"), 3), 3],
  ])("exit code of %s: %d", (err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });
});
