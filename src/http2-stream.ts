import {
  createContextKey,
  createContextValues,
  type ContextValues,
} from "@connectrpc/connect";

/**
 * The parts of a Node.js `ServerHttp2Stream` that the server interceptor
 * reads: whether it closed, and with which RST_STREAM code.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface ObservedStream {
  readonly closed: boolean;
  readonly rstCode?: number;
  once(event: "close", listener: () => void): unknown;
}

/**
 * The context key under which `ServerMetrics.contextValues` puts the call's
 * HTTP/2 stream.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export const kHttp2Stream = createContextKey<ObservedStream | undefined>(
  undefined,
  { description: "connectrpc-prometheus: the call's HTTP/2 stream" },
);

/**
 * streamContextValues puts a server request's HTTP/2 stream into the call's
 * context values, so that the interceptor can see the client reset it.
 * `req` is what the server adapter hands its `contextValues` option: a
 * `node:http2` request (connect-node, express) or a fastify request. Over
 * HTTP/1.1 there is no stream and nothing is added.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function streamContextValues(
  req: unknown,
  values: ContextValues = createContextValues(),
): ContextValues {
  const r = req as { stream?: unknown; raw?: { stream?: unknown } } | null;
  const stream = r?.stream ?? r?.raw?.stream;
  if (isObservedStream(stream)) {
    values.set(kHttp2Stream, stream);
  }
  return values;
}

function isObservedStream(s: unknown): s is ObservedStream {
  return (
    typeof s === "object" &&
    s !== null &&
    typeof (s as ObservedStream).closed === "boolean" &&
    typeof (s as ObservedStream).once === "function"
  );
}
