// Raw HTTP/2 requests with node:http2, for sending what no Connect client
// would: broken protobuf, truncated envelopes, odd paths and headers.
import * as http2 from "node:http2";

export interface RawResponse {
  /** The HTTP status, or 0 if the stream was reset before any headers. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly trailers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The reset code if the server reset the stream, else 0. */
  readonly rstCode: number;
}

export interface RawRequest {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Body chunks, written in order; the request ends after the last. */
  readonly body?: readonly Uint8Array[];
  /** Give up after this long (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Send on this session (left open) instead of a fresh one. */
  readonly session?: http2.ClientHttp2Session;
}

/**
 * rawRequest sends one request over a fresh HTTP/2 session to `baseUrl` and
 * reads the whole response, trailers included.
 */
export function rawRequest(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const own = req.session === undefined;
    const session = req.session ?? http2.connect(baseUrl);
    const timer = setTimeout(() => {
      if (own) session.destroy();
      else stream.close();
      reject(new Error(`raw request ${req.path} timed out`));
    }, req.timeoutMs ?? 5000);
    if (own) {
      session.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }
    const stream = session.request({
      ":method": req.method ?? "POST",
      ":path": req.path,
      ...req.headers,
    });
    let status = 0;
    let headers: Record<string, string> = {};
    let trailers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      headers = flat(h);
    });
    stream.on("trailers", (t) => {
      trailers = flat(t);
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {
      // A reset shows in rstCode below.
    });
    stream.on("close", () => {
      clearTimeout(timer);
      const rstCode = stream.rstCode ?? 0;
      if (own) session.close();
      resolve({ status, headers, trailers, body: Buffer.concat(chunks), rstCode });
    });
    for (const chunk of req.body ?? []) stream.write(chunk);
    stream.end();
  });
}

function flat(h: http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  return out;
}

/** envelope frames a message as gRPC, gRPC-Web and Connect streaming do. */
export function envelope(payload: Uint8Array, flags = 0, declaredLength = payload.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([head, payload]);
}

/**
 * Bytes that are not a valid protobuf message: field 1 (string) declares 5
 * bytes and only 1 follows.
 */
export const badProtobuf = Uint8Array.from([0x0a, 0x05, 0x61]);
