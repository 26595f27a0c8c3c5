import type { StreamRequest, UnaryRequest } from "@connectrpc/connect";

/**
 * The request an option function is given: a Connect interceptor request.
 */
export type AnyRequest = UnaryRequest | StreamRequest;

/** The label that `protocolLabel` adds. */
export const labelProtocol = "rpc_protocol";

/** The value that stands for every value past `maxValuesPerLabel`. */
export const overflowValue = "other";

/**
 * protocolOf tells a request's protocol from its content-type, on both sides:
 * connect-node parses it on the server, and the transports set it before the
 * interceptors run on the client. A Connect GET has no content-type.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function protocolOf(header: Headers): "grpc" | "grpc_web" | "connect" {
  const type = header.get("content-type");
  if (type === null || !type.startsWith("application/grpc")) {
    return "connect";
  }
  return type.startsWith("application/grpc-web") ? "grpc_web" : "grpc";
}

/**
 * The settled `labels` option: request-derived labels.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface RequestLabels {
  readonly names: readonly string[];
  readonly fromRequest: (req: AnyRequest) => readonly string[];
  readonly maxValuesPerLabel: number;
}

/**
 * CallLabels computes the labels that vary per call (the protocol and the
 * request-derived labels), and keeps each request label's values within
 * `maxValuesPerLabel`: once a label has seen that many distinct values, any
 * new value becomes `other`.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class CallLabels {
  /** The names of the per-call labels, in order. */
  readonly names: readonly string[];
  private readonly seen: Set<string>[];

  constructor(
    private readonly protocol: boolean,
    private readonly request: RequestLabels | undefined,
    private readonly fail: (error: unknown) => void,
  ) {
    this.names = [...(protocol ? [labelProtocol] : []), ...(request?.names ?? [])];
    this.seen = (request?.names ?? []).map(() => new Set<string>());
  }

  /** The values of the per-call labels of a request, guarded. */
  values(req: AnyRequest): string[] {
    const out: string[] = this.protocol ? [protocolOf(req.header)] : [];
    if (this.request === undefined) {
      return out;
    }
    let raw: readonly unknown[] = [];
    try {
      raw = this.request.fromRequest(req);
    } catch (e) {
      this.fail(e);
    }
    for (let i = 0; i < this.seen.length; i++) {
      out.push(this.guard(i, raw[i] === undefined ? "" : String(raw[i])));
    }
    return out;
  }

  /** The values `initialize()` uses: every protocol, and "" for request labels. */
  initialValues(): string[][] {
    const empty = this.seen.map(() => "");
    return this.protocol
      ? ["grpc", "grpc_web", "connect"].map((p) => [p, ...empty])
      : [empty];
  }

  private guard(i: number, value: string): string {
    const seen = this.seen[i];
    if (seen.has(value)) {
      return value;
    }
    if (seen.size >= this.request!.maxValuesPerLabel) {
      return overflowValue;
    }
    seen.add(value);
    return value;
  }
}
