#!/usr/bin/env node
// The `ramp` command (also `kubectl ramp`).
import { Command } from "commander";
import { registerLint } from "./lint.ts";
import { registerVersion, VERSION } from "./version.ts";

const program = new Command("ramp")
  .description("Ramp: progressive delivery for Kubernetes — canary and blue-green rollouts with traffic routing and analysis")
  .version(VERSION, "--version", "print the version")
  .showHelpAfterError();

registerLint(program);
registerVersion(program);

await program.parseAsync(process.argv);
