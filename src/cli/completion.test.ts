import { execFileSync } from "node:child_process";
import { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { bashCompletion, type CompletionNode, commandTree, fishCompletion, zshCompletion } from "./completion.ts";

const program = new Command("ramp").option("--version", "print the version");
program.command("promote <rollout>").description("go on").option("--full", "all of it");
program
  .command("get <rollout>")
  .description("show")
  .addOption(new Option("-o, --output <f>", "format").choices(["json", "name"]));
program.command("set").description("change").command("image <rollout>").description("set images").option("--dry", "don't");
const tree = commandTree(program);

/** What bash completes for the words typed so far (the last one being completed). */
const complete = (script: string, ...words: string[]) =>
  execFileSync(
    "bash",
    [
      "-c",
      `eval "$SCRIPT"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _ramp; echo "\${COMPREPLY[@]}"`,
    ],
    { env: { ...process.env, SCRIPT: script }, encoding: "utf8" },
  ).trim();

describe("completion, written from the program's own commands", () => {
  it("reads commands, options and their choices from commander", () => {
    const get = tree.commands.find((c) => c.name === "get") as CompletionNode;
    expect(tree.commands.map((c) => c.name)).toEqual(["promote", "get", "set"]);
    expect(get.options).toEqual([
      { flags: ["-o", "--output"], description: "format", choices: ["json", "name"] },
      { flags: ["-h", "--help"], description: "show help" },
    ]);
    expect(tree.commands[2]?.commands.map((c) => c.name)).toEqual(["image"]);
  });

  it.each<[string, string[], string]>([
    ["a command name", ["ramp", "pro"], "promote"],
    ["every command", ["ramp", ""], "promote get set --version -h --help"],
    ["a command's options", ["ramp", "promote", "web", "--f"], "--full"],
    ["an option's choices", ["ramp", "get", "web", "-o", ""], "json name"],
    ["a nested command", ["ramp", "set", "im"], "image"],
    ["a nested command's options", ["ramp", "set", "image", "web", "--d"], "--dry"],
  ])("bash completes %s", (_, words, expected) => {
    expect(complete(bashCompletion(tree), ...words)).toBe(expected);
  });

  it("bash registers it for every name of the command", () => {
    expect(bashCompletion(tree, ["kubectl-ramp"])).toMatch(/\ncomplete -F _ramp ramp kubectl-ramp\n$/);
  });

  it("zsh loads it through bashcompinit", () => {
    expect(zshCompletion(tree)).toContain("autoload -U +X bashcompinit && bashcompinit\n# ramp completion for bash");
  });

  it.each([
    ["complete -c ramp -f -n '__fish_use_subcommand' -a promote -d 'go on'"],
    ["complete -c ramp -n '__fish_seen_subcommand_from get' -s o -l output -xa 'json name' -d 'format'"],
    ["complete -c ramp -f -n '__fish_seen_subcommand_from set' -a image -d 'set images'"],
    ["complete -c ramp -n '__fish_seen_subcommand_from image' -l dry -d 'don\\'t'"],
  ])("fish: %s", (line) => {
    expect(fishCompletion(tree).split("\n")).toContain(line);
  });
});
