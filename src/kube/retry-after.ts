/** How often one request is sent again on Retry-After, as client-go (rest.Request maxRetries). */
export const MAX_RETRY_AFTER_RETRIES = 10;
/** The longest wait a Retry-After can ask for; a larger value is clamped to this. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** How long to wait before sending a request again, or undefined to give its answer as is. Only
 * 429 (throttled by API priority and fairness) and 503 that carry Retry-After in whole seconds, as
 * client-go; never past the `retries` bound nor beyond what is left of the request timeout. */
export function retryDelayMs(
  status: number,
  retryAfter: string | undefined,
  retries: number,
  budgetMs: number,
): number | undefined {
  if ((status !== 429 && status !== 503) || retryAfter === undefined) return undefined;
  if (!/^\s*\d{1,9}\s*$/.test(retryAfter) || retries >= MAX_RETRY_AFTER_RETRIES) return undefined;
  const wait = Math.min(Number(retryAfter) * 1000, MAX_RETRY_AFTER_MS);
  return wait < budgetMs ? wait : undefined;
}
