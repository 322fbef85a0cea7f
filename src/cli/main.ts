#!/usr/bin/env node
// The `ramp` command (also `kubectl ramp`).
import { Command } from "commander";
import { registerDev } from "./dev.ts";
import { registerLint } from "./lint.ts";
import { registerVersion, VERSION } from "./version.ts";

const program = new Command("ramp")
  .description("Ramp: progressive delivery for Kubernetes — canary and blue-green rollouts with traffic routing and analysis")
  .version(VERSION, "--version", "print the version")
  .showHelpAfterError();

registerLint(program);
registerDev(program);
registerVersion(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A failure the user can act on: one line, no stack trace.
  console.error(`ramp: ${(err as Error).message}`);
  process.exitCode = 1;
}
