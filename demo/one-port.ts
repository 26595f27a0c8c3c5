// Serves HTTP/1.1 and cleartext HTTP/2 on one port: gRPC needs HTTP/2, while
// Prometheus scrapes /metrics over HTTP/1.1.
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Duplex } from "node:stream";

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** A stream that yields `first`, then everything the socket reads. */
function replay(socket: net.Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => socket.resume(),
    write: (chunk, encoding, cb) => socket.write(chunk, encoding, cb),
    final: (cb) => socket.end(cb),
    destroy: (err, cb) => {
      socket.destroy(err ?? undefined);
      cb(err);
    },
  });
  stream.push(first);
  socket.on("data", (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.on("end", () => stream.push(null));
  socket.on("error", (err) => stream.destroy(err));
  socket.on("close", () => stream.destroy());
  return stream;
}

/** The first bytes of every HTTP/2 connection. */
const preface = "PRI * HTTP/2.0";

/**
 * listenOnePort starts a server on `port` (0 for any free port) at `host`
 * that hands each connection to an HTTP/2 or an HTTP/1.1 server, by its first
 * bytes.
 */
export async function listenOnePort(
  handler: Handler,
  port: number,
  host = "127.0.0.1",
): Promise<{ port: number; close(): Promise<void> }> {
  const h2 = http2.createServer(handler);
  const h1 = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (chunk: Buffer) => {
      socket.pause();
      if (chunk.toString("latin1", 0, preface.length) === preface) {
        // HTTP/2 reads from the socket's handle, past anything already read
        // in JavaScript, so it gets a stream that replays the first bytes.
        h2.emit("connection", replay(socket, chunk));
      } else {
        socket.unshift(chunk);
        h1.emit("connection", socket);
        socket.resume();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
