// Pure: text cut to a length, marked as cut. What a status, an Event or a message holds of something
// a tenant or another cluster wrote is bounded, so a huge error never becomes a huge object.

/** How much of a problem a Rollout's status keeps (the InvalidSpec condition, status.message,
 * status.refusedTemplate.message): an apiserver's answer fits, a tenant's megabyte does not. */
export const MAX_STATUS_MESSAGE = 1024;

/** `text`, or its first max - 1 characters and "…" when it is longer. */
export const brief = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
