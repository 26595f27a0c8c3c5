import type { StreamRequest, UnaryRequest } from "@connectrpc/connect";
import { labelProtocol, overflowValue } from "./constants.js";

/**
 * AnyRequest is the request that the options' callbacks are given
 * (`exemplars`, `labels.fromRequest`): a Connect interceptor request, unary
 * or streaming.
 *
 * ```ts
 * const tenant = (req: AnyRequest) => [req.header.get("x-tenant") ?? ""];
 * new ServerMetrics({ labels: { names: ["tenant"], fromRequest: tenant } });
 * ```
 */
export type AnyRequest = UnaryRequest | StreamRequest;

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
  readonly maxValueLength: number;
}

/**
 * CallLabels computes the labels that vary per call (the protocol and the
 * request-derived labels), and guards each request label: a value longer
 * than `maxValueLength`, or new once the label has seen `maxValuesPerLabel`
 * distinct values, becomes `other`.
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
    const request = this.request;
    if (request === undefined) {
      return out;
    }
    let raw: readonly unknown[] = [];
    try {
      raw = request.fromRequest(req);
      if (!Array.isArray(raw) || raw.length !== this.seen.length) {
        const got = Array.isArray(raw) ? `${raw.length} values` : typeof raw;
        raw = Array.isArray(raw) ? raw : [];
        throw new TypeError(
          `connectrpc-prometheus: labels.fromRequest returned ${got} for the ${this.seen.length} names ` +
            `${request.names.join(", ")}; the missing ones are recorded as "".`,
        );
      }
    } catch (e) {
      this.fail(e);
    }
    for (let i = 0; i < this.seen.length; i++) {
      const v = raw[i];
      out.push(this.guard(i, v === undefined || v === null ? "" : String(v)));
    }
    return out;
  }

  /** The values `initialize()` uses: every protocol, and "" for request labels. */
  initialValues(): string[][] {
    const empty = this.seen.map(() => "");
    return this.protocol ? ["grpc", "grpc_web", "connect"].map((p) => [p, ...empty]) : [empty];
  }

  private guard(i: number, value: string): string {
    const seen = this.seen[i];
    if (seen.has(value)) {
      return value;
    }
    const { maxValuesPerLabel, maxValueLength } = this.request!;
    if (value.length > maxValueLength || seen.size >= maxValuesPerLabel) {
      return overflowValue;
    }
    seen.add(value);
    return value;
  }
}
