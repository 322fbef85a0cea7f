// Pure: Argo Rollouts' conditions (expr-lang, https://expr-lang.org) as Ramp's CEL. Only the part of
// expr whose meaning CEL keeps is translated: comparisons, arithmetic, and/or/not, indexing,
// len, isNaN, default, asFloat/asInt and the list predicates all/any/none/one/filter/map/count.
// Anything else is refused with why, and the condition is reported rather than guessed.

export type Translation = { ok: true; cel: string } | { ok: false; why: string };

type Token = { type: "num" | "str" | "id" | "op"; text: string };

const OPERATORS = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "**",
  "..",
  "??",
  "?.",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "!",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ".",
  "?",
  ":",
  "#",
];

class Refused extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    const number = /^(\d+\.?\d*(e[-+]?\d+)?|\.\d+)/i.exec(rest);
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(rest);
    const string = /^("([^"\\]|\\.)*"|'([^'\\]|\\.)*')/.exec(rest);
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (space) i += space[0].length;
    else if (number) {
      tokens.push({ type: "num", text: number[0] });
      i += number[0].length;
    } else if (word) {
      tokens.push({ type: "id", text: word[0] });
      i += word[0].length;
    } else if (string) {
      tokens.push({ type: "str", text: string[0] });
      i += string[0].length;
    } else if (op) {
      tokens.push({ type: "op", text: op });
      i += op.length;
    } else throw new Refused(`unexpected character ${JSON.stringify(text[i])}`);
  }
  return tokens;
}

/** expr's predicates over a list, as CEL macros over a bound variable. */
const PREDICATES: Record<string, (list: string, v: string, body: string) => string> = {
  all: (l, v, b) => `${l}.all(${v}, ${b})`,
  any: (l, v, b) => `${l}.exists(${v}, ${b})`,
  none: (l, v, b) => `!${l}.exists(${v}, ${b})`,
  one: (l, v, b) => `${l}.exists_one(${v}, ${b})`,
  filter: (l, v, b) => `${l}.filter(${v}, ${b})`,
  map: (l, v, b) => `${l}.map(${v}, ${b})`,
  count: (l, v, b) => `size(${l}.filter(${v}, ${b}))`,
};
const FUNCTIONS: Record<string, { arity: number; cel: string }> = {
  len: { arity: 1, cel: "size" },
  isNaN: { arity: 1, cel: "isNaN" },
  default: { arity: 2, cel: "default" },
  asFloat: { arity: 1, cel: "double" },
  float: { arity: 1, cel: "double" },
  asInt: { arity: 1, cel: "int" },
  int: { arity: 1, cel: "int" },
};
const WORD_OPERATORS: Record<string, string> = { and: "&&", or: "||", not: "!" };

class Parser {
  private at = 0;
  /** Names bound by the closures being parsed: `#` is the innermost. */
  private readonly closures: string[] = [];
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  parse(): string {
    const out = this.ternary();
    if (this.at < this.tokens.length) throw new Refused(`unexpected ${JSON.stringify(this.peek()?.text)}`);
    return out;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }
  private isOp(...texts: string[]): string | undefined {
    const t = this.peek();
    if (!t) return undefined;
    const text = t.type === "id" ? WORD_OPERATORS[t.text] : t.type === "op" ? t.text : undefined;
    return text && texts.includes(text) ? text : undefined;
  }
  private expect(text: string): void {
    if (this.peek()?.text !== text) throw new Refused(`expected ${JSON.stringify(text)}`);
    this.at++;
  }

  private ternary(): string {
    const cond = this.binary(0);
    if (!this.isOp("?")) return cond;
    this.at++;
    const a = this.ternary();
    this.expect(":");
    return `${cond} ? ${a} : ${this.ternary()}`;
  }

  private static readonly LEVELS = [["||"], ["&&"], ["==", "!=", "<", "<=", ">", ">=", "in"], ["+", "-"], ["*", "/", "%"]];

  private binary(level: number): string {
    if (level === Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    const ops = Parser.LEVELS[level] as string[];
    for (;;) {
      const t = this.peek();
      const op = t?.type === "id" && t.text === "in" && ops.includes("in") ? "in" : this.isOp(...ops);
      if (!op) break;
      this.at++;
      left = `${left} ${op} ${this.binary(level + 1)}`;
      if (level === 2) break; // comparisons do not chain
    }
    if (this.isOp("**", "..", "??")) throw new Refused(`the operator ${this.peek()?.text} has no CEL equivalent`);
    return left;
  }

  private unary(): string {
    const op = this.isOp("!", "-");
    if (op) {
      this.at++;
      return `${op}${this.unary()}`;
    }
    return this.postfix(this.primary());
  }

  private postfix(base: string): string {
    let out = base;
    for (;;) {
      if (this.isOp("[")) {
        this.at++;
        const index = this.ternary();
        if (this.isOp(":")) throw new Refused("slices have no CEL equivalent");
        this.expect("]");
        out = `${out}[${index}]`;
      } else if (this.isOp(".", "?.")) {
        throw new Refused("member access: Ramp's result is a number or a list of numbers");
      } else return out;
    }
  }

  private primary(): string {
    const t = this.peek();
    if (!t) throw new Refused("unexpected end");
    this.at++;
    if (t.type === "num" || t.type === "str") return t.text;
    if (t.type === "op") {
      if (t.text === "(") {
        const inner = this.ternary();
        this.expect(")");
        return `(${inner})`;
      }
      if (t.text === "#") {
        const bound = this.closures.at(-1);
        if (!bound) throw new Refused("# outside a predicate");
        return bound;
      }
      if (t.text === "[") {
        const items: string[] = [];
        while (!this.isOp("]")) {
          items.push(this.ternary());
          if (!this.isOp("]")) this.expect(",");
        }
        this.at++;
        return `[${items.join(", ")}]`;
      }
      throw new Refused(`unexpected ${JSON.stringify(t.text)}`);
    }
    if (t.text === "true" || t.text === "false") return t.text;
    if (t.text === "nil") throw new Refused("nil: Ramp has no null result; an empty result is decided by noData");
    if (this.isOp("(")) return this.call(t.text);
    if (t.text === "result") return "result";
    throw new Refused(`unknown name ${JSON.stringify(t.text)}: Ramp's conditions know only result`);
  }

  private call(name: string): string {
    this.expect("(");
    const predicate = PREDICATES[name];
    if (predicate) {
      const list = this.ternary();
      this.expect(",");
      this.expect("{");
      const v = this.closures.length ? `x${this.closures.length}` : "x";
      this.closures.push(v);
      const body = this.ternary();
      this.closures.pop();
      this.expect("}");
      this.expect(")");
      return predicate(list, v, body);
    }
    const fn = FUNCTIONS[name];
    if (!fn) throw new Refused(`the function ${name}() has no CEL equivalent in Ramp`);
    const args: string[] = [];
    while (!this.isOp(")")) {
      args.push(this.ternary());
      if (!this.isOp(")")) this.expect(",");
    }
    this.at++;
    if (args.length !== fn.arity) throw new Refused(`${name}() takes ${fn.arity} argument(s)`);
    return `${fn.cel}(${args.join(", ")})`;
  }
}

/** An Argo condition as CEL, or why it cannot be translated. */
export function argoConditionToCel(expr: string): Translation {
  try {
    return { ok: true, cel: new Parser(tokenize(expr)).parse() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, why: err.message };
    throw err;
  }
}
