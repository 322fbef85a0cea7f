// The door is the only way out: no module a tenant's input reaches opens a connection of its own.
// src/kube (the apiserver), src/dev (the local cluster's tooling) and src/net itself may.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..");
const EXEMPT = ["kube/", "dev/", "net/"];
const sources = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !EXEMPT.some((d) => f.startsWith(d)))
  .map((f) => ({ file: relative(SRC, join(SRC, f)), text: readFileSync(join(SRC, f), "utf8") }));

const FORBIDDEN = [
  { what: "fetch()", pattern: /(?<![.\w])fetch\(/ },
  {
    what: "node:http/https/net/tls/dgram value imports",
    pattern: /^import (?!type)[^;]*from "node:(https?|net|tls|dgram|http2)"/m,
  },
  { what: "an HTTP client package", pattern: /from "(axios|undici|got|node-fetch)"/ },
];

describe("every outbound connection goes through src/net", () => {
  it.each(FORBIDDEN)("no $what outside src/net, src/kube and src/dev", ({ pattern }) => {
    // Borrowing STATUS_CODES (the server, the CLI's messages) opens nothing.
    const allowed = (text: string) => !pattern.test(text.replaceAll('import { STATUS_CODES } from "node:http";', ""));
    expect(sources.length).toBeGreaterThan(50);
    expect(sources.filter((s) => !allowed(s.text)).map((s) => s.file)).toEqual([]);
  });

  it("prometheus-query is used only by the client that is handed the door", () => {
    const users = sources.filter((s) => s.text.includes('from "prometheus-query"'));
    expect(users.map((s) => s.file)).toEqual(["analysis/providers/prometheus/client.ts"]);
    expect(users[0]?.text).toContain("this.door.open(");
  });
});
