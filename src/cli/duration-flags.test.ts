// Every duration flag goes through the strict parser when the command line is parsed, so a bad value
// stops the command before it starts anything (the Lease flags were read only once leading began).
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerController } from "./controller.ts";

const parsed = (...args: string[]) => {
  const program = new Command("ramp").exitOverride();
  registerController(program);
  const command = program.commands.find((c) => c.name() === "controller") as Command;
  command.exitOverride().action(() => {});
  program.parse(["controller", ...args], { from: "user" });
  return command.opts();
};

describe("ramp controller's duration flags", () => {
  it("default to the documented values, in milliseconds", () => {
    expect(parsed()).toMatchObject({ leaseDuration: 15_000, renewDeadline: 10_000, retryPeriod: 2_000 });
  });

  it.each(["--lease-duration", "--renew-deadline", "--retry-period"])("%s reads 1m30s", (flag) => {
    expect(Object.values(parsed(flag, "1m30s"))).toContain(90_000);
  });

  it.each(
    ["--lease-duration", "--renew-deadline", "--retry-period"].flatMap((flag) =>
      ["10x5m", "1d", "30", "-1s", "", "8761h"].map((value) => [flag, value]),
    ),
  )("%s refuses %j, naming the flag", (flag, value) => {
    expect(() => parsed(flag, value)).toThrow(new RegExp(`^${flag}: `));
  });
});
