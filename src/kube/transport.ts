// How one KubeClient reaches its apiserver: a keep-alive connection pool, and the credential of each
// request. Files (CA, client certificate and key, token) are read once and again only when they
// change, so a rotating ServiceAccount token or certificate is picked up without a read per request.
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { LookupFunction } from "node:net";
import { promisify } from "node:util";
import {
  type ClusterAccess,
  type ExecAnswer,
  type ExecPlugin,
  execInfo,
  KubeConfigError,
  type Material,
  parseExecCredential,
} from "./kubeconfig.ts";
import { WatchSession } from "./watch-session.ts";

/** The file system calls WatchedFile makes (a seam for its unit test). */
export interface FileReader {
  /** An identity of the file's current contents (inode, size, mtime). */
  version(path: string): string;
  read(path: string): Buffer;
}

export const DISK: FileReader = {
  version: (path) => {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  },
  read: (path) => readFileSync(path),
};

/** A file's contents, read again only when its version changes: the same Buffer until then. */
export class WatchedFile {
  private version: string | undefined;
  private contents: Buffer | undefined;
  private readonly path: string;
  private readonly what: string;
  private readonly fs: FileReader;

  constructor(path: string, what: string, fs: FileReader = DISK) {
    this.path = path;
    this.what = what;
    this.fs = fs;
  }

  read(): Buffer {
    try {
      const version = this.fs.version(this.path);
      if (version !== this.version || !this.contents) {
        this.contents = this.fs.read(this.path);
        this.version = version;
      }
      return this.contents;
    } catch (err) {
      throw new KubeConfigError(`reading the ${this.what} ${this.path}: ${(err as Error).message}`);
    }
  }
}

/** Material as a function: inline data as it is, a file through WatchedFile. */
function source(m: Material | undefined, what: string, fs: FileReader): (() => Buffer) | undefined {
  if (!m) return undefined;
  if ("data" in m) return () => m.data;
  const file = new WatchedFile(m.file, what, fs);
  return () => file.read();
}

export type RunPlugin = (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<string>;

const runFile = promisify(execFile);
const RUN_PLUGIN: RunPlugin = async (command, args, env) => (await runFile(command, args, { env, timeout: 60_000 })).stdout;

// A credential this close to its expiry is fetched again (client-go refreshes on expiry too).
const EXPIRY_MARGIN_MS = 10_000;

/** A credential plugin's answer, kept until it expires or the apiserver refuses it; one run at a time. */
export class ExecCredentials {
  private answer: ExecAnswer | undefined;
  private running: Promise<ExecAnswer> | undefined;
  private readonly plugin: ExecPlugin;
  private readonly run: RunPlugin;

  constructor(plugin: ExecPlugin, run: RunPlugin = RUN_PLUGIN) {
    this.plugin = plugin;
    this.run = run;
  }

  get(now = Date.now()): Promise<ExecAnswer> {
    const answer = this.answer;
    if (answer && (answer.expiresAt === undefined || answer.expiresAt - EXPIRY_MARGIN_MS > now)) return Promise.resolve(answer);
    this.running ??= this.fetch().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The apiserver answered 401: the next request runs the plugin again. */
  refused(): void {
    this.answer = undefined;
  }

  private async fetch(): Promise<ExecAnswer> {
    const { command, args, env, installHint } = this.plugin;
    const vars = {
      ...process.env,
      ...Object.fromEntries(env.map((e) => [e.name, e.value])),
      KUBERNETES_EXEC_INFO: execInfo(this.plugin),
    };
    let stdout: string;
    try {
      stdout = await this.run(command, args, vars);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      const why = e.code === "ENOENT" ? `executable ${command} not found` : `${command}: ${(e.stderr || e.message).trim()}`;
      throw new KubeConfigError(`getting credentials: exec: ${why}${installHint ? `\n\n${installHint}` : ""}`);
    }
    this.answer = parseExecCredential(stdout, this.plugin);
    return this.answer;
  }
}

/** Requests share at most this many connections; watches (each holds one for its life) have their own pool. */
export const REQUEST_SOCKETS = 32;
// Idle connections are closed before the apiserver's own idle timeout (90 s) can race a request on them.
const IDLE_MS = 30_000;

type Agent = HttpAgent | HttpsAgent;

interface Tls {
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
}

/** Connection pools and credentials of one client. */
export class Transport {
  readonly access: ClusterAccess;
  private readonly ca: (() => Buffer) | undefined;
  private readonly cert: (() => Buffer) | undefined;
  private readonly key: (() => Buffer) | undefined;
  private readonly token: (() => string) | undefined;
  private readonly exec: ExecCredentials | undefined;
  private tls: Tls | undefined;
  private agents: { request: Agent; watch: Agent } | undefined;
  /** The watches' session; one that found HTTP/2 refused is kept, so watches go over HTTP/1.1 from then on. */
  private session: WatchSession | undefined;

  private readonly lookup: LookupFunction | undefined;
  private readonly watchIdleMs: number | undefined;

  /** `watchIdleMs`: how long the HTTP/2 connection of the watches may stay unproven (see WatchSession). */
  constructor(access: ClusterAccess, fs: FileReader = DISK, lookup?: LookupFunction, watchIdleMs?: number) {
    this.access = access;
    this.lookup = lookup;
    this.watchIdleMs = watchIdleMs;
    this.ca = source(access.ca, "certificate authority", fs);
    this.cert = source(access.clientCert, "client certificate", fs);
    this.key = source(access.clientKey, "client key", fs);
    const credential = access.credential;
    if (credential.kind === "tokenFile") {
      const file = new WatchedFile(credential.file, "token file", fs);
      let read: Buffer | undefined;
      let token = "";
      this.token = () => {
        const contents = file.read();
        if (contents !== read) [read, token] = [contents, contents.toString("utf8").trim()];
        return token;
      };
    }
    this.exec = credential.kind === "exec" ? new ExecCredentials(credential.plugin) : undefined;
  }

  /** The pool and the headers of one request (a watch: `watch`, with the HTTP/2 session it goes on
   * when the server is https and has not refused HTTP/2). */
  async prepare(watch: boolean): Promise<{ agent: Agent; session?: WatchSession; headers: Record<string, string | string[]> }> {
    const answer = await this.exec?.get();
    const headers: Record<string, string | string[]> = {};
    const credential = this.access.credential;
    const bearer =
      credential.kind === "token" ? credential.token : credential.kind === "tokenFile" ? this.token?.() : answer?.token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (credential.kind === "basic") {
      headers.authorization = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
    }
    const tls = { ca: this.ca?.(), cert: answer?.clientCert ?? this.cert?.(), key: answer?.clientKey ?? this.key?.() };
    const agents = this.pools(tls);
    if (!watch) return { agent: agents.request, headers };
    const session = this.watchSession(tls);
    return { agent: agents.watch, headers, ...(session ? { session } : {}) };
  }

  /** The HTTP/2 session for watches: one at a time, a new one once it closed. */
  private watchSession(tls: Tls): WatchSession | undefined {
    if (!this.access.server.startsWith("https:")) return undefined;
    if (this.session?.refusedH2) return undefined;
    if (this.session && !this.session.closed) return this.session;
    this.session = new WatchSession(this.access.server, this.tlsOptions(tls), this.watchIdleMs);
    return this.session;
  }

  private tlsOptions(tls: Tls) {
    return {
      rejectUnauthorized: !this.access.insecureSkipTlsVerify,
      ...(this.access.tlsServerName ? { servername: this.access.tlsServerName } : {}),
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(this.lookup ? { lookup: this.lookup } : {}),
    };
  }

  /** The apiserver answered 401 Unauthorized. */
  unauthorized(): void {
    this.exec?.refused();
  }

  /** The pools for this TLS material: the same until a file or a plugin's certificate changes. Then
   * the old connections are closed, as client-go's certificate rotation closes them. */
  private pools(tls: Tls): { request: Agent; watch: Agent } {
    const same = this.tls && this.tls.ca === tls.ca && this.tls.cert === tls.cert && this.tls.key === tls.key;
    if (this.agents && same) return this.agents;
    this.agents?.request.destroy();
    this.agents?.watch.destroy();
    this.session?.destroy();
    this.session = undefined;
    const https = this.access.server.startsWith("https:");
    const make = (maxSockets: number, timeout?: number): Agent => {
      const pool = {
        keepAlive: true,
        maxSockets,
        ...(timeout ? { timeout } : {}),
        ...(this.lookup ? { lookup: this.lookup } : {}),
      };
      return https ? new HttpsAgent({ ...pool, ...this.tlsOptions(tls) }) : new HttpAgent(pool);
    };
    this.tls = tls;
    this.agents = { request: make(REQUEST_SOCKETS, IDLE_MS), watch: make(Number.POSITIVE_INFINITY) };
    return this.agents;
  }
}
