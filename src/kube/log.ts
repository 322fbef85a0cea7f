// The controller's log: pino records, as JSON lines (for a log pipeline) or one readable line each
// (for a terminal). Both are written synchronously to a stream in this thread: pino's transports run
// in worker threads loaded from files, which a bundle does not carry.
import { pino } from "pino";

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A component's log line, at a level: debug for per-reconcile detail, info for what an operator
 * follows (start, leadership, sync), warn for failures it recovers from. Components take one of these
 * and nothing of pino, so their tests collect lines with a plain function. */
export type Log = (line: string, level?: "debug" | "info" | "warn") => void;

export const LOG_FORMATS = ["text", "json"] as const;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

interface Sink {
  write(chunk: string): unknown;
}

const LEVEL_NAMES: Record<number, string> = { 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR" };

/** One pino JSON record as `TIME LEVEL name: msg`. */
function formatText(line: string): string {
  const { time, level, name, msg } = JSON.parse(line) as { time: number; level: number; name: string; msg: string };
  return `${new Date(time).toISOString()} ${LEVEL_NAMES[level] ?? String(level)} ${name}: ${msg}\n`;
}

export function createLogger(opts: { name: string; format: LogFormat; level: LogLevel; sink?: Sink }): Logger {
  const sink = opts.sink ?? process.stderr;
  const destination = opts.format === "json" ? sink : { write: (line: string) => sink.write(formatText(line)) };
  const logger = pino({ name: opts.name, level: opts.level, base: undefined }, destination);
  return {
    debug: (msg) => logger.debug(msg),
    info: (msg) => logger.info(msg),
    warn: (msg) => logger.warn(msg),
    error: (msg) => logger.error(msg),
  };
}
