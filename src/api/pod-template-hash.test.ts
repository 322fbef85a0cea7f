import { describe, expect, it } from "vitest";
import { POD_TEMPLATE_HASH_LABEL, podTemplateHash } from "./pod-template-hash.ts";

const template = (image: string, labels: Record<string, string> = { app: "web" }) => ({
  metadata: { labels },
  spec: { containers: [{ name: "web", image }] },
});

describe("podTemplateHash", () => {
  it.each([
    { name: "key order", a: { spec: { b: 1, a: 2 } }, b: { spec: { a: 2, b: 1 } }, same: true },
    { name: "an image change", a: template("web:1"), b: template("web:2"), same: false },
    { name: "a label change", a: template("web:1"), b: template("web:1", { app: "web", tier: "x" }), same: false },
    {
      name: "the hash label Ramp adds",
      a: template("web:1"),
      b: template("web:1", { app: "web", [POD_TEMPLATE_HASH_LABEL]: "abc" }),
      same: true,
    },
  ])("$name: same hash is $same", ({ a, b, same }) => {
    expect(podTemplateHash(a) === podTemplateHash(b)).toBe(same);
  });

  it("is 10 characters with no vowels", () => {
    expect(podTemplateHash(template("web:1"))).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  });
});
