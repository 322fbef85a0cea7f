// Writes crds/*.yaml from the zod schemas (npm run gen:crds). The drift test compares the same output.
import { mkdirSync, writeFileSync } from "node:fs";
import { renderCrds } from "../src/api/crd-files.ts";

const dir = new URL("../crds/", import.meta.url);
mkdirSync(dir, { recursive: true });
for (const { file, text } of renderCrds()) writeFileSync(new URL(file, dir), text);
console.log(`wrote ${renderCrds().length} CRDs to crds/`);
