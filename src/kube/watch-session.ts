// The one HTTP/2 connection a client's watches share, as client-go's: a watch is a stream on it, so
// it can run for the 5-10 minutes the apiserver is asked for and still be known alive, because the
// connection is proven by a PING whenever it has been quiet. Over HTTP/1.1 the only proof a watch
// lives is bytes on its own connection, so each had to be ended and opened again well within the
// request timeout: a request every 15 s per watch with nothing to say.
import { type ClientHttp2Session, type ClientHttp2Stream, connect, type OutgoingHttpHeaders } from "node:http2";
import type { ConnectionOptions } from "node:tls";

/** A stream's end told by the session: the connection was found dead or it closed. */
export type StreamEnd = (why: "silent" | "closed") => void;

/** TLS alerts and errors that mean the server (or a proxy before it) does not speak HTTP/2. */
const NO_H2 = new Set(["ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL", "ERR_HTTP2_ERROR"]);

/** Flow-control windows as Go's HTTP/2 transport has them (client-go): HTTP/2's default of 64 KiB
 * lets a burst of events (every Rollout changed at once) wait on each window update from a busy
 * event loop, until the apiserver, its buffer for the watcher full, ends the watch. */
const STREAM_WINDOW = 4 * 2 ** 20;
const CONNECTION_WINDOW = 64 * 2 ** 20;

export class WatchSession {
  private readonly session: ClientHttp2Session;
  private readonly streams = new Map<ClientHttp2Stream, StreamEnd>();
  private readonly timer: NodeJS.Timeout | undefined;
  private heardAt = Date.now();
  private pingSentAt: number | undefined;
  private connected = false;
  /** Set once the session can take no more streams (GOAWAY, an error, closed, found dead). */
  closed = false;
  /** Set when the server refused HTTP/2 itself: the client then watches over HTTP/1.1. */
  refusedH2 = false;

  /** `idleMs`: the longest a connection with watches on it may stay unproven (none: no PINGs). */
  constructor(server: string, tls: ConnectionOptions, idleMs: number | undefined) {
    this.session = connect(server, { ...tls, settings: { initialWindowSize: STREAM_WINDOW } });
    this.session.unref();
    this.session.on("connect", () => {
      this.connected = true;
      this.session.setLocalWindowSize(CONNECTION_WINDOW);
    });
    this.session.on("error", (err: NodeJS.ErrnoException) => {
      this.refuses(err);
      this.close("closed");
    });
    this.session.on("goaway", () => {
      this.closed = true;
    });
    this.session.on("close", () => this.close("closed"));
    if (idleMs) {
      this.timer = setInterval(() => this.check(idleMs), Math.max(50, idleMs / 4));
      this.timer.unref();
    }
  }

  /** Opens one stream; `end` is told if the session ends it (the stream's own events tell the rest). */
  open(headers: OutgoingHttpHeaders, signal: AbortSignal, end: StreamEnd): ClientHttp2Stream {
    if (this.streams.size === 0) {
      // The clock of an unproven connection starts with the first watch on it.
      this.heardAt = Date.now();
      this.session.ref();
    }
    const stream = this.session.request(headers, { signal });
    this.streams.set(stream, end);
    stream.on("data", () => this.heard());
    stream.on("close", () => {
      this.streams.delete(stream);
      if (this.streams.size === 0 && !this.closed) this.session.unref();
    });
    return stream;
  }

  /** Whether `err` (a stream's, or its cause) says the server refused HTTP/2 before it connected:
   * a stream is told so before the session. */
  refuses(err: Error & { code?: string; cause?: unknown }): boolean {
    const cause = err.cause as { code?: string } | undefined;
    if (!this.connected && (NO_H2.has(err.code ?? "") || NO_H2.has(cause?.code ?? ""))) this.refusedH2 = true;
    return this.refusedH2;
  }

  destroy(): void {
    this.close("closed");
  }

  private heard(): void {
    this.heardAt = Date.now();
    this.pingSentAt = undefined;
  }

  /** A PING once the connection has been quiet for a quarter of idleMs; dead when half of it passes
   * with no answer, so a frozen connection is given up within about idleMs of its last bytes. */
  private check(idleMs: number): void {
    // destroyed: torn down before its close event has run (ping would throw from this timer).
    if (this.closed || this.session.destroyed || this.streams.size === 0) return;
    const now = Date.now();
    if (this.pingSentAt !== undefined) {
      if (now - this.pingSentAt >= idleMs / 2) this.close("silent");
      return;
    }
    if (now - this.heardAt < idleMs / 4 || !this.connected) {
      if (!this.connected && now - this.heardAt >= idleMs) this.close("silent");
      return;
    }
    this.pingSentAt = now;
    try {
      this.session.ping((err) => {
        if (!err) this.heard();
      });
    } catch {
      // A session going away as the PING went out: its streams end now rather than at the deadline.
      this.close("closed");
    }
  }

  private close(why: "silent" | "closed"): void {
    this.closed = true;
    clearInterval(this.timer);
    const ends = [...this.streams.values()];
    this.streams.clear();
    for (const end of ends) end(why);
    if (!this.session.destroyed) this.session.destroy();
  }
}
