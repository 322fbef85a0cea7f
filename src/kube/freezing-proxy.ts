// A TCP proxy on 127.0.0.1 in front of the apiserver that can fail the way a dead NAT entry or load
// balancer does: its connections stay open and drop every byte both ways, and nothing is closed,
// so neither end learns of it (a half-open connection). TLS passes through untouched.
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

export interface FreezingProxy {
  /** https://127.0.0.1:PORT: the apiserver's URL through the proxy. */
  url: string;
  /** Every open connection goes silent for good; so do new ones, until resume(). */
  freeze(): void;
  /** New connections forward again; the ones frozen stay frozen. */
  resume(): void;
  close(): Promise<void>;
}

interface Connection {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export async function freezingProxy(target: string): Promise<FreezingProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Connection>();
  let freezing = false;
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    const conn: Connection = { client, upstream, frozen: freezing };
    open.add(conn);
    const forward = (from: Socket, to: Socket) => {
      // Reading on while frozen keeps the sender's writes succeeding: the bytes vanish here.
      from.on("data", (chunk) => conn.frozen || to.write(chunk));
      from.on("end", () => conn.frozen || to.end());
      from.on("error", () => conn.frozen || to.destroy());
    };
    forward(client, upstream);
    forward(upstream, client);
    // The controller giving up on a connection ends it upstream too, frozen or not: only the
    // controller's side is under test, and the apiserver's sockets are not left behind.
    client.on("close", () => {
      upstream.destroy();
      open.delete(conn);
    });
    upstream.on("close", () => conn.frozen || client.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze: () => {
      freezing = true;
      for (const conn of open) conn.frozen = true;
    },
    resume: () => {
      freezing = false;
    },
    close: async () => {
      for (const { client, upstream } of open) {
        client.destroy();
        upstream.destroy();
      }
      server.close();
      await once(server, "close");
    },
  };
}
