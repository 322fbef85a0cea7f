// Pure: the pod-template hash that names a revision (`ramp.dev/pod-template-hash`). Canonical JSON
// (sorted keys) so the same template always hashes the same, whatever order its fields came in;
// the hash label Ramp itself adds to ReplicaSet templates is left out.
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.ts";

export const POD_TEMPLATE_HASH_LABEL = "ramp.dev/pod-template-hash";

/** The hash label of the baseline that runs beside canary revision `canaryHash`: a new canary gets a
 * fresh baseline, and no revision's hash (no dash in the alphabet) is ever one. */
export const baselineHash = (canaryHash: string): string => `${canaryHash}-baseline`;

// Like Kubernetes' SafeEncodeString: no vowels, so a hash never spells a word.
const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

export function podTemplateHash(template: unknown): string {
  const t = structuredClone(template) as { metadata?: { labels?: Record<string, string> } };
  if (t.metadata?.labels) delete t.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const digest = createHash("sha256").update(canonicalJson(t)).digest();
  return Array.from(digest.subarray(0, 10), (b) => ALPHABET[b % ALPHABET.length]).join("");
}
