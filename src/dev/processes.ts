// Child processes of the dev cluster: started detached with their output in one log folder, so
// `ramp dev down` (another process) can stop exactly these, by pid, and nothing else.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface Started {
  name: string;
  pid: number;
  log: string;
}

/** A free TCP port on 127.0.0.1, as the kernel hands it out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export function startProcess(name: string, command: string, args: string[], logDir: string, env?: NodeJS.ProcessEnv): Started {
  const log = join(logDir, `${name}.log`);
  const fd = openSync(log, "a");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env: env ?? process.env });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  child.unref();
  return { name, pid: child.pid, log };
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
  while (isAlive(pid)) await sleep(20);
}

/** Polls `check` until it returns true; the error names what was awaited and where its log is. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, hint = ""): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  const cause = last instanceof Error ? `: ${last.message}` : "";
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${cause}${hint ? ` (${hint})` : ""}`);
}
