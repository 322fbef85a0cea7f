import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ARGOCD_CM, argocdConfigMap, HEALTH_KEY, HEALTH_LUA } from "./argocd.ts";

describe("deploy/argocd/argocd-cm.yaml", () => {
  it("is generated from health.lua (run `npm run gen:deploy` after changing it)", () => {
    expect(readFileSync(ARGOCD_CM, "utf8")).toBe(argocdConfigMap());
  });

  it("carries health.lua, byte for byte, under the key Argo CD reads", () => {
    expect(parse(argocdConfigMap()).data[HEALTH_KEY]).toBe(readFileSync(HEALTH_LUA, "utf8"));
  });
});
