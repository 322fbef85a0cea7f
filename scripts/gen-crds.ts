// Writes crds/*.yaml from the zod schemas (npm run gen:crds), and the same files into the Helm
// chart's crds/ (helm installs CRDs only from there). The drift test compares the same output.
import { mkdirSync, writeFileSync } from "node:fs";
import { CRD_DIRS, renderCrds } from "../src/api/crd-files.ts";

const crds = renderCrds();
for (const folder of CRD_DIRS) {
  const dir = new URL(`../${folder}`, import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const { file, text } of crds) writeFileSync(new URL(file, dir), text);
  console.log(`wrote ${crds.length} CRDs to ${folder}`);
}
