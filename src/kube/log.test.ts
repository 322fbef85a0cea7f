import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat, type LogLevel } from "./log.ts";

function capture(format: LogFormat, level: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger({ name: "ramp controller", format, level, sink: { write: (l: string) => lines.push(l) } });
  logger.debug("d");
  logger.info("i");
  logger.warn("w");
  logger.error("e");
  return lines;
}

describe("createLogger", () => {
  it.each<[LogLevel, string[]]>([
    ["debug", ["DEBUG", "INFO", "WARN", "ERROR"]],
    ["info", ["INFO", "WARN", "ERROR"]],
    ["warn", ["WARN", "ERROR"]],
    ["error", ["ERROR"]],
  ])("text at %s: one readable line per record at or above the level", (level, levels) => {
    const lines = capture("text", level);
    expect(lines.map((l) => l.split(" ")[1])).toEqual(levels);
    expect(lines.at(-1)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR ramp controller: e\n$/);
  });

  it.each<[LogLevel, number[]]>([
    ["debug", [20, 30, 40, 50]],
    ["info", [30, 40, 50]],
    ["error", [50]],
  ])("json at %s: pino's records", (level, levels) => {
    const records = capture("json", level).map((l) => JSON.parse(l));
    expect(records.map((r) => r.level)).toEqual(levels);
    expect(records.at(-1)).toEqual({ level: 50, time: expect.any(Number), name: "ramp controller", msg: "e" });
  });
});
