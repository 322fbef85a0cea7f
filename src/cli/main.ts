#!/usr/bin/env node
// The `ramp` command (also `kubectl ramp`).
import { Command } from "commander";
import { registerAbort } from "./abort.ts";
import { registerAnalyze } from "./analyze.ts";
import { registerController } from "./controller.ts";
import { registerDev } from "./dev.ts";
import { registerGet } from "./get.ts";
import { registerLint } from "./lint.ts";
import { registerList } from "./list.ts";
import { registerPause } from "./pause.ts";
import { registerPromote } from "./promote.ts";
import { registerRestart } from "./restart.ts";
import { registerResume } from "./resume.ts";
import { registerRetry } from "./retry.ts";
import { registerSetImage } from "./set-image.ts";
import { registerUndo } from "./undo.ts";
import { registerVersion, VERSION } from "./version.ts";

const program = new Command("ramp")
  .description("Ramp: progressive delivery for Kubernetes — canary and blue-green rollouts with traffic routing and analysis")
  .version(VERSION, "--version", "print the version")
  .showHelpAfterError();

registerGet(program);
registerList(program);
registerPromote(program);
registerAbort(program);
registerRetry(program);
registerPause(program);
registerResume(program);
registerRestart(program);
registerUndo(program);
registerSetImage(program);
registerLint(program);
registerAnalyze(program);
registerController(program);
registerDev(program);
registerVersion(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A failure the user can act on: one line, no stack trace.
  console.error(`ramp: ${(err as Error).message}`);
  process.exitCode = 1;
}
