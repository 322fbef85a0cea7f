#!/usr/bin/env node
// The `ramp` command (also `kubectl ramp`). Each command's module is loaded only when that command
// runs (all of them for help and completion), so `ramp promote` does not pay for the controller's or analysis's imports.
import { enableCompileCache } from "node:module";
import { Command } from "commander";
import { VERSION } from "./version.ts";

// Node keeps the compiled code of the modules loaded below on disk (in the temp folder), so a second
// run parses none of the bundle's megabytes again: list/get/promote start about twice as fast.
enableCompileCache();

type Register = (program: Command) => void;

/** Command name -> its module's register function, in the order help lists them. */
const COMMANDS: [string[], () => Promise<Register>][] = [
  [["get", "status"], async () => (await import("./get.ts")).registerGet],
  [["list"], async () => (await import("./list.ts")).registerList],
  [["promote"], async () => (await import("./promote.ts")).registerPromote],
  [["abort"], async () => (await import("./abort.ts")).registerAbort],
  [["retry"], async () => (await import("./retry.ts")).registerRetry],
  [["pause"], async () => (await import("./pause.ts")).registerPause],
  [["resume"], async () => (await import("./resume.ts")).registerResume],
  [["restart"], async () => (await import("./restart.ts")).registerRestart],
  [["undo"], async () => (await import("./undo.ts")).registerUndo],
  [["set"], async () => (await import("./set-image.ts")).registerSetImage],
  [["lint"], async () => (await import("./lint.ts")).registerLint],
  [["convert"], async () => (await import("./convert.ts")).registerConvert],
  [["analyze"], async () => (await import("./analyze.ts")).registerAnalyze],
  [["dashboard"], async () => (await import("./dashboard.ts")).registerDashboard],
  [["controller"], async () => (await import("./controller.ts")).registerController],
  [["fleet"], async () => (await import("./fleet.ts")).registerFleet],
  [["demo"], async () => (await import("./demo.ts")).registerDemo],
  [["dev"], async () => (await import("./dev.ts")).registerDev],
  [["version"], async () => (await import("./version.ts")).registerVersion],
  [["completion"], async () => (await import("./completion.ts")).registerCompletion],
];

const program = new Command("ramp")
  .description("Ramp: progressive delivery for Kubernetes — canary and blue-green rollouts with traffic routing and analysis")
  .version(VERSION, "--version", "print the version")
  .showHelpAfterError();

try {
  const name = process.argv[2];
  // Help and completion describe every command; any other command needs only its own module.
  const chosen = COMMANDS.filter(([names]) => name !== undefined && name !== "completion" && names.includes(name));
  for (const [, load] of chosen.length ? chosen : COMMANDS) (await load())(program);
  await program.parseAsync(process.argv);
} catch (err) {
  // A failure the user can act on: one line, no stack trace.
  const { exitCodeOf, exitLine } = await import("./errors.ts");
  console.error(exitLine(err));
  process.exitCode = exitCodeOf(err);
}
