// Writes docs/api-reference.md from the zod schemas and docs/reasons.md from the catalogue of reasons
// and codes (npm run gen:docs). Tests keep them in step.
import { mkdirSync, writeFileSync } from "node:fs";
import { renderReasons, renderReference } from "../src/api/reference.ts";

mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
writeFileSync(new URL("../docs/api-reference.md", import.meta.url), renderReference());
writeFileSync(new URL("../docs/reasons.md", import.meta.url), renderReasons());
console.log("wrote docs/api-reference.md and docs/reasons.md");
