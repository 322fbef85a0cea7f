// Writes docs/api-reference.md from the zod schemas (npm run gen:docs). A test keeps it in step.
import { mkdirSync, writeFileSync } from "node:fs";
import { renderReference } from "../src/api/reference.ts";

mkdirSync(new URL("../docs/", import.meta.url), { recursive: true });
writeFileSync(new URL("../docs/api-reference.md", import.meta.url), renderReference());
console.log("wrote docs/api-reference.md");
