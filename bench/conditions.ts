// How long conditions take under the cost budget: prints, per condition, the time of one evaluation
// and whether it fit. Run: node bench/conditions.ts
import { DEFAULT_CONDITION_LIMITS, evaluateCondition } from "../src/analysis/conditions.ts";

const literal = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(", ")}]`;
const values = (n: number) => Array.from({ length: n }, (_, i) => i / n);
const cases: [string, string, number | number[]][] = [
  ["all() over 400 series", "result.all(x, x < 1)", values(400)],
  ["all() over 11,000 points", "result.all(x, x < 1)", values(11_000)],
  ["filter() over 1,000 points", "result.filter(x, x > 0.5).size() > 0", values(1_000)],
  ["two nested all() over 80 literals", `${literal(80)}.all(a, ${literal(80)}.all(b, a + b >= 0))`, 0.5],
  ["three nested all() over 400 series", "result.all(a, result.all(b, result.all(c, a + b + c >= 0)))", values(400)],
  [
    "four nested all() over 80 literals",
    `${literal(80)}.all(a, ${literal(80)}.all(b, ${literal(80)}.all(c, ${literal(80)}.all(d, a + b + c + d >= 0))))`,
    0.5,
  ],
  ["three-level map over a literal", `${literal(80)}.map(a, ${literal(80)}.map(b, ${literal(80)})).size() > 0`, 0.5],
];
console.log(`limits: budget ${DEFAULT_CONDITION_LIMITS.budget}, time ${DEFAULT_CONDITION_LIMITS.timeLimitMs} ms`);
for (const [what, text, result] of cases) {
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    let outcome: string;
    try {
      outcome = String(evaluateCondition(text, result));
    } catch (err) {
      outcome = (err as { code?: string }).code ?? String(err);
    }
    if (round === 2) console.log(`${what.padEnd(40)} ${(performance.now() - started).toFixed(1).padStart(8)} ms  ${outcome}`);
  }
}
