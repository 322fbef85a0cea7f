import { describe, expect, it } from "vitest";
import { argumentNames, redacted, substitute } from "./args.ts";

type Token = { kind: "code" | "comment"; text: string } | { kind: "string"; quote: string; value: string };

const UNESCAPE: Record<string, string> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"', "'": "'" };

/** PromQL split into code, comments and string literals (decoded), as Prometheus's lexer sees them. */
function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let code = "";
  const flush = () => {
    if (code) tokens.push({ kind: "code", text: code });
    code = "";
  };
  for (let i = 0; i < query.length; i++) {
    const c = query[i] as string;
    if (c === "#") {
      flush();
      const end = query.indexOf("\n", i);
      const stop = end === -1 ? query.length : end;
      tokens.push({ kind: "comment", text: query.slice(i, stop) });
      i = stop - 1;
    } else if (c === "`") {
      flush();
      const end = query.indexOf("`", i + 1);
      if (end === -1) throw new Error("unterminated raw string");
      tokens.push({ kind: "string", quote: c, value: query.slice(i + 1, end) });
      i = end;
    } else if (c === '"' || c === "'") {
      flush();
      let value = "";
      for (i++; query[i] !== c; i++) {
        if (i >= query.length || query[i] === "\n") throw new Error("unterminated quoted string");
        if (query[i] === "\\") {
          const escaped = UNESCAPE[query[++i] as string];
          // Prometheus refuses unknown escapes, and the other quote's escape, inside a string.
          if (escaped === undefined || (escaped !== c && (escaped === '"' || escaped === "'"))) {
            throw new Error(`unknown escape \\${query[i]}`);
          }
          value += escaped;
        } else value += query[i];
      }
      tokens.push({ kind: "string", quote: c, value });
    } else code += c;
  }
  flush();
  return tokens;
}

const HOSTILE = [
  '"} or vector(1) or {a="',
  "'} or vector(1) or {a='",
  "\\",
  '\\"',
  "\\'",
  'a\\\\"b',
  'line\n"} or vector(1)',
  "cr\r\ttab",
  "# not a comment",
  "back`quote",
  "{{args.other}}",
  "$& $1 $$",
  "ü \u2028 \u0000",
  "",
];

const QUOTED_TEMPLATES = [
  'sum(rate(http_requests_total{service="{{args.v}}", code=~"5.."}[5m]))',
  "up{job='{{args.v}}'}",
  'up{job=~"{{args.v}}.*"} # trailing "comment" with a \'quote',
  'label_replace(up, "dst", "x-{{args.v}}-y", "src", "(.*)")',
  'up{a="\\"{{args.v}}\\""}',
  '# it\'s a comment\nup{a="{{args.v}}"}',
  "up{a=\"{{ args.v }}\", b='{{args.v}}'}",
];

describe("substitute in PromQL string literals", () => {
  const cases = QUOTED_TEMPLATES.flatMap((template) => HOSTILE.map((value) => [template, value] as const));
  it.each(cases)("%s with %j keeps the query's structure", (template, value) => {
    const safe = lex(substitute(template, { v: "SAFE", other: "x" }, { promql: true }));
    const hostile = lex(substitute(template, { v: value, other: "x" }, { promql: true }));
    expect(hostile.map((t) => t.kind)).toEqual(safe.map((t) => t.kind));
    hostile.forEach((token, i) => {
      const expected = safe[i]!;
      if (token.kind === "string" && expected.kind === "string") {
        expect(token.quote).toBe(expected.quote);
        expect(token.value).toBe(expected.value.replaceAll("SAFE", () => value));
      } else {
        expect(token).toEqual(expected);
      }
    });
  });

  it.each(HOSTILE.filter((v) => !v.includes("`")))("raw string `...` takes %j as it is", (value) => {
    const query = substitute("up{job=~`{{args.v}}`}", { v: value }, { promql: true });
    expect(lex(query)).toEqual([
      { kind: "code", text: "up{job=~" },
      { kind: "string", quote: "`", value },
      { kind: "code", text: "}" },
    ]);
  });

  it("refuses a backquote inside a raw string", () => {
    expect(() => substitute("up{job=~`{{args.v}}`}", { v: "a`} or vector(1) or {b=`" }, { promql: true })).toThrow(
      'argument "v" contains a backquote and is placed in a raw string',
    );
  });
});

describe("substitute in bare PromQL positions", () => {
  it.each([
    ["rate(x[{{args.v}}])", "5m"],
    ["rate(x[{{args.v}}])", "1h30m"],
    ["rate(x[{{args.v}}])", "250ms"],
    ["x > {{args.v}}", "0.05"],
    ["x > {{args.v}}", "-1"],
    ["x > {{args.v}}", "1e3"],
    ["x > {{args.v}}", ".5"],
    ["sum by ({{args.v}}) (x)", "pod"],
    ["{{args.v}}_total", "http_requests"],
    ["{{args.v}}", "namespace:metric:rate5m"],
    ["up # note {{args.v}}", "abc"],
  ])("%s takes %j", (template, value) => {
    expect(substitute(template, { v: value }, { promql: true })).toBe(template.replace("{{args.v}}", value));
  });

  it.each([
    ["rate(x[{{args.v}}])", "5m]) or vector(1"],
    ["x > {{args.v}}", "0 or vector(1)"],
    ["x > {{args.v}}", "1;"],
    ["sum by ({{args.v}}) (x)", "pod) (x) or sum by (a"],
    ["{{args.v}}", 'up{a="b"}'],
    ["{{args.v}}", "a b"],
    ["{{args.v}}", ""],
    ["{{args.v}}", "x\n"],
    // A comment ends at a newline, so a value there could start a new line of query.
    ["up # note {{args.v}}", "x\nor vector(1)"],
    // A quote inside a comment opens no string: the value lands in the comment, outside any literal.
    ['up # it\'s "{{args.v}}"', '"} or vector(1)'],
  ])("%s refuses %j", (template, value) => {
    expect(() => substitute(template, { v: value }, { promql: true })).toThrow(
      /argument "v" is placed outside a string literal, so it must be a plain number, name or duration/,
    );
  });

  it("shortens a long refused value in the message", () => {
    expect(() => substitute("{{args.v}}", { v: `${"a ".repeat(40)}` }, { promql: true })).toThrow(/got "(a ){20}…"/);
  });
});

describe("substitute", () => {
  it.each<[string, Record<string, string>, string]>([
    ["{{args.a}}-{{args.b}}", { a: "1", b: "2" }, "1-2"],
    ["{{ args.a }}", { a: "x" }, "x"],
    ["{{args.canary-hash}}", { "canary-hash": "abc" }, "abc"],
    ["Bearer {{args.token}}", { token: 'a "b" `c` \\d' }, 'Bearer a "b" `c` \\d'],
    ["{{args.a}}", { a: "{{args.b}}", b: "no" }, "{{args.b}}"],
    ["{{args.a}}", { a: "$& $1" }, "$& $1"],
    ["no placeholders", {}, "no placeholders"],
    ["{{args}} {{ other.a }} {args.a}", { a: "x" }, "{{args}} {{ other.a }} {args.a}"],
  ])("%s (no escaping outside PromQL)", (text, args, expected) => {
    expect(substitute(text, args)).toBe(expected);
  });

  it.each([
    ["{{args.nope}}", {}, 'unknown argument "nope" in {{args.nope}}'],
    ['up{a="{{args.nope}}"}', { other: "x" }, 'unknown argument "nope" in {{args.nope}}'],
    ["# {{args.nope}}", {}, 'unknown argument "nope" in {{args.nope}}'],
  ])("%s: unknown arguments are errors, in comments too", (text, args, message) => {
    expect(() => substitute(text, args, { promql: true })).toThrow(message);
    expect(() => substitute(text, args)).toThrow(message);
  });
});

describe("argumentNames", () => {
  it.each<[string, string[]]>([
    ["", []],
    ["{{args.b}} {{args.a}} {{ args.b }}", ["b", "a"]],
    ['up{a="{{args.x-y}}"} # {{args.z}}', ["x-y", "z"]],
  ])("%s uses %j", (text, names) => {
    expect(argumentNames(text)).toEqual(names);
  });
});

describe("redacted", () => {
  it.each([
    [
      "masks every occurrence in message and metadata",
      ["s3cret"],
      { message: "bad s3cret", metadata: { query: "x{k='s3cret'} or s3cret" } },
      { message: "bad ***", metadata: { query: "x{k='***'} or ***" } },
    ],
    ["leaves an outcome without secrets alone", [], { message: "m" }, { message: "m" }],
    ["ignores empty secret values", [""], { message: "m" }, { message: "m" }],
  ])("%s", (_what, secrets, outcome, expected) => {
    expect(redacted(outcome, secrets)).toEqual(expected);
  });
});

describe("redacted: every form a secret takes", () => {
  const query = (secret: string) => substitute('up{token="{{args.t}}"}', { t: secret }, { promql: true });
  it.each([
    { form: "trimmed (--from-file's trailing newline)", secret: "tok3n\n", text: "Authorization: Bearer tok3n" },
    { form: "trailing CRLF and spaces", secret: "  tok3n\r\n", text: "token tok3n." },
    { form: "JSON-escaped quote", secret: 'p"ss', text: '{"password":"p\\"ss"}' },
    { form: "JSON-escaped backslash", secret: "a\\b1", text: '{"v":"a\\\\b1"}' },
    { form: "JSON-escaped tab", secret: "a\tb12", text: '{"v":"a\\tb12"}' },
    { form: "PromQL-escaped in a double-quoted string", secret: 'x"y\\z', text: query('x"y\\z') },
    { form: "PromQL-escaped newline from --from-file, untrimmed", secret: "line1\nline2\n", text: query("line1\nline2\n") },
    { form: "PromQL single-quoted", secret: "it's", text: "up{a='it\\'s'}" },
    { form: "URL-encoded", secret: "a b&c/d", text: "GET /api?q=a%20b%26c%2Fd" },
    { form: "form-encoded", secret: "a b&c", text: "q=a+b%26c" },
    { form: "quoted", secret: "s3cret", text: `"s3cret" and 's3cret'` },
  ])("$form", ({ secret, text }) => {
    const masked = redacted({ message: text }, [secret]).message ?? "";
    expect(masked).toContain("***");
    for (const form of [secret, secret.trim()]) expect(masked).not.toContain(form);
    expect(masked).not.toMatch(/tok3n|s3cret|p\\?"ss|a\\+b1|line1|it\\?'s|a(%20|\+)b/);
  });
});
