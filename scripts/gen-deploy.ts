// Writes deploy/*.yaml by rendering the Helm chart with the pinned helm (npm run gen:deploy), and
// deploy/argocd/argocd-cm.yaml from the health check. test/helm.test.ts and scripts/argocd.test.ts
// fail when they drift.
import { writeFileSync } from "node:fs";
import { ARGOCD_CM, argocdConfigMap } from "./argocd.ts";
import { RENDERINGS, renderDeploy } from "./helm.ts";

for (const r of RENDERINGS) {
  writeFileSync(new URL(`../deploy/${r.file}`, import.meta.url), await renderDeploy(r));
  console.log(`wrote deploy/${r.file}`);
}
writeFileSync(ARGOCD_CM, argocdConfigMap());
console.log("wrote deploy/argocd/argocd-cm.yaml");
