// `ramp completion bash|zsh|fish`: shell completion written from the program's own commands and
// options, so it cannot drift from them. commandTree reads commander; the generators are pure.
import type { Command } from "commander";

export interface CompletionOption {
  flags: string[];
  description: string;
  /** The values it takes, when they are a fixed set (-o json|yaml|...). */
  choices?: string[];
}

export interface CompletionNode {
  name: string;
  description: string;
  options: CompletionOption[];
  commands: CompletionNode[];
}

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];

export function commandTree(command: Command): CompletionNode {
  const options = command.options.map((o) => ({
    flags: [o.short, o.long].filter((f): f is string => f !== undefined),
    description: o.description,
    ...(o.argChoices ? { choices: o.argChoices } : {}),
  }));
  return {
    name: command.name(),
    description: command.description(),
    options: [...options, { flags: ["-h", "--help"], description: "show help" }],
    commands: command.commands.map(commandTree),
  };
}

/** Every node with the words that lead to it ("ramp set image"). */
function nodes(node: CompletionNode, path: string[] = []): { path: string[]; node: CompletionNode }[] {
  const here = [...path, node.name];
  return [{ path: here, node }, ...node.commands.flatMap((c) => nodes(c, here))];
}

const words = (node: CompletionNode) => [...node.commands.map((c) => c.name), ...node.options.flatMap((o) => o.flags)];

export function bashCompletion(root: CompletionNode, aliases: string[] = []): string {
  const all = nodes(root);
  const fn = `_${root.name.replace(/\W/g, "_")}`;
  const steps = all.slice(1).map(({ path }) => `"${path.join(" ")}"`);
  const choices = all.flatMap(({ path, node }) =>
    node.options
      .filter((o) => o.choices)
      .map((o) => `    ${o.flags.map((f) => `"${path.join(" ")} ${f}"`).join("|")}) words="${o.choices?.join(" ")}" ;;`),
  );
  return [
    `# ${root.name} completion for bash: source <(${root.name} completion bash)`,
    `${fn}() {`,
    `  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" node="${root.name}" words i`,
    "  for ((i = 1; i < COMP_CWORD; i++)); do",
    `    case "$node \${COMP_WORDS[i]}" in`,
    `    ${steps.join("|")}) node="$node \${COMP_WORDS[i]}" ;;`,
    "    esac",
    "  done",
    `  case "$node $prev" in`,
    ...choices,
    "  *)",
    `    case "$node" in`,
    ...all.map(({ path, node }) => `    "${path.join(" ")}") words="${words(node).join(" ")}" ;;`),
    "    esac",
    "    ;;",
    "  esac",
    `  COMPREPLY=($(compgen -W "$words" -- "$cur"))`,
    "}",
    `complete -F ${fn} ${[root.name, ...aliases].join(" ")}`,
    "",
  ].join("\n");
}

/** zsh runs the bash completion through its own bashcompinit: one generator, two shells. */
export function zshCompletion(root: CompletionNode, aliases: string[] = []): string {
  return [
    `# ${root.name} completion for zsh: source <(${root.name} completion zsh)`,
    "autoload -U +X compinit && compinit",
    "autoload -U +X bashcompinit && bashcompinit",
    bashCompletion(root, aliases),
  ].join("\n");
}

const fishQuote = (text: string) => `'${text.replace(/[\\']/g, "\\$&")}'`;

export function fishCompletion(root: CompletionNode, aliases: string[] = []): string {
  const lines = [`# ${root.name} completion for fish: ${root.name} completion fish | source`];
  for (const cmd of [root.name, ...aliases]) {
    for (const { path, node } of nodes(root)) {
      // At the top, nothing typed yet; below, once the node's own word has been typed.
      const when = path.length === 1 ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${node.name}`;
      for (const sub of node.commands) {
        lines.push(`complete -c ${cmd} -f -n ${fishQuote(when)} -a ${sub.name} -d ${fishQuote(sub.description)}`);
      }
      for (const o of node.options) {
        const flags = o.flags.map((f) => (f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(" ");
        const values = o.choices ? ` -xa ${fishQuote(o.choices.join(" "))}` : "";
        lines.push(`complete -c ${cmd} -n ${fishQuote(when)} ${flags}${values} -d ${fishQuote(o.description)}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

const GENERATORS: Record<Shell, (root: CompletionNode, aliases: string[]) => string> = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
};

export function registerCompletion(program: Command): void {
  program
    .command("completion <shell>")
    .description(`print a shell completion script (${SHELLS.join(", ")}): source <(ramp completion bash)`)
    .action((shell: string) => {
      const generate = GENERATORS[shell as Shell];
      if (!generate) throw new Error(`completion: expected one of ${SHELLS.join(", ")}, got "${shell}"`);
      process.stdout.write(generate(commandTree(program), ["kubectl-ramp"]));
    });
}
