// Secrets opt in: the controller reads a Secret's data only when the Secret carries the label
// ramp.dev/secret-access naming the use (analysis, notifications). Its metadata is read first, as
// PartialObjectMetadata, so a Secret that has not opted in never sends its data to the controller.
// `get` on Secrets is all the RBAC this needs: no list, no watch.
import { type Code, CodedError } from "../api/codes.ts";
import { isNotFound, type KubeClient, type KubeObject } from "./client.ts";

export const SECRET_ACCESS_LABEL = "ramp.dev/secret-access";
export type SecretUse = "analysis" | "notifications";

export type SecretErrorCode = Extract<Code, "SECRET_NOT_FOUND" | "SECRET_NOT_OPTED_IN" | "SECRET_KEY_MISSING">;

export class SecretAccessError extends CodedError<SecretErrorCode> {
  override name = "SecretAccessError";
}

/** The label's value: one use, or several separated by commas (`analysis,notifications`). */
export const optsIn = (labels: Record<string, string> | undefined, use: SecretUse) =>
  (labels?.[SECRET_ACCESS_LABEL] ?? "")
    .split(",")
    .map((s) => s.trim())
    .includes(use);

type Secret = KubeObject & { data?: Record<string, string> };

/** The Secret's data (base64 values) once it has opted in to `use`; throws SecretAccessError naming it and how to opt in. */
export async function readOptedInSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  use: SecretUse,
): Promise<Record<string, string>> {
  const where = `Secret ${namespace}/${name}`;
  try {
    const meta = await client.getMetadata("v1", "Secret", name, namespace);
    if (!optsIn(meta.metadata.labels, use)) {
      throw new SecretAccessError(
        "SECRET_NOT_OPTED_IN",
        `${where} has not opted in to ${use}: label it ${SECRET_ACCESS_LABEL}=${use} (kubectl label secret -n ${namespace} ${name} ${SECRET_ACCESS_LABEL}=${use})`,
      );
    }
    return (await client.get<Secret>("v1", "Secret", name, namespace)).data ?? {};
  } catch (err) {
    if (isNotFound(err)) throw new SecretAccessError("SECRET_NOT_FOUND", `${where} not found`);
    throw err;
  }
}

/** One key of the data readOptedInSecret gave, decoded. */
export function secretKey(data: Record<string, string>, namespace: string, name: string, key: string): string {
  const encoded = data[key];
  if (encoded === undefined) throw new SecretAccessError("SECRET_KEY_MISSING", `Secret ${namespace}/${name} has no key "${key}"`);
  return Buffer.from(encoded, "base64").toString("utf8");
}
