// How a failed command ends: the line it prints (src/kube/error-line.ts) and its exit code.
import { errorLine } from "../kube/error-line.ts";

/** An error that ends a command with its own exit code (e.g. `status -w`: 3 for any error). */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(cause: unknown, exitCode: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.exitCode = exitCode;
  }
}

/** The line a failed command prints: its error's, or through an exit code its cause's. */
export const exitLine = (err: unknown): string => (err instanceof ExitError ? exitLine(err.cause) : errorLine(err));

export const exitCodeOf = (err: unknown) => (err instanceof ExitError ? err.exitCode : 1);
