// Writes deploy/*.yaml by rendering the Helm chart with the pinned helm (npm run gen:deploy).
// test/helm.test.ts fails when they drift from the chart.
import { writeFileSync } from "node:fs";
import { RENDERINGS, renderDeploy } from "./helm.ts";

for (const r of RENDERINGS) {
  writeFileSync(new URL(`../deploy/${r.file}`, import.meta.url), await renderDeploy(r));
  console.log(`wrote deploy/${r.file}`);
}
