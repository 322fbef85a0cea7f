// Writes crds/*.yaml from the zod schemas (npm run gen:crds). The drift test compares the same output.
import { mkdirSync, writeFileSync } from "node:fs";
import { renderCrds } from "../src/api/crd-files.ts";

const dir = new URL("../crds/", import.meta.url);
mkdirSync(dir, { recursive: true });
const crds = renderCrds();
for (const { file, text } of crds) writeFileSync(new URL(file, dir), text);
console.log(`wrote ${crds.length} CRDs to crds/`);
