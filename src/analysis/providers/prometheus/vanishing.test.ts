import { describe, expect, it } from "vitest";
import { vanishingNumerator } from "./vanishing.ts";

describe("vanishingNumerator", () => {
  it.each([
    {
      name: "5xx over all",
      query: 'sum(rate(http_requests_total{service="a",code=~"5.."}[1m])) / sum(rate(http_requests_total{service="a"}[1m]))',
      only: ['code=~"5.."'],
    },
    {
      name: "on several lines, with arguments",
      query: 'sum(rate(x{ns="{{args.ns}}",code=~"5.."}[1m]))\n/\nsum(rate(x{ns="{{args.ns}}"}[1m]))\n',
      only: ['code=~"5.."'],
    },
    {
      name: "guarded with or vector(0)",
      query: '(sum(rate(x{code=~"5.."}[1m])) or vector(0)) / sum(rate(x[1m]))',
      only: undefined,
    },
    {
      name: "guarded without parentheses around it",
      query: 'sum(rate(x{code=~"5.."}[1m])) or vector(0) / sum(rate(x[1m]))',
      only: undefined,
    },
    { name: "no ratio", query: 'sum(rate(x{code=~"5.."}[1m]))', only: undefined },
    { name: "same selectors both sides", query: 'sum(rate(a{s="x"}[1m])) / sum(rate(b{s="x"}[1m]))', only: undefined },
    {
      name: "the whole ratio in parentheses",
      query: '(sum(rate(x{code!~"5.."}[2m])) / sum(rate(x[2m])))',
      only: ['code!~"5.."'],
    },
    { name: "a slash inside a string is no division", query: 'sum(rate(x{path=~"/api/.*"}[1m]))', only: undefined },
    { name: "a division inside a function is not the ratio", query: 'histogram_quantile(0.9, x{a="b"} / y)', only: undefined },
    { name: "a label named like or", query: 'sum(rate(x{color="red"}[1m])) / sum(rate(x[1m]))', only: ['color="red"'] },
  ])("$name", ({ query, only }) => expect(vanishingNumerator(query)).toEqual(only));
});
