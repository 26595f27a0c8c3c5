import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";

/**
 * methodsOf collects the methods that `initialize()` creates series for:
 * every method of each service descriptor, and, where routers are allowed,
 * every method registered on each `ConnectRouter`. Anything else throws an
 * error that says what to pass.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function methodsOf(
  side: "ServerMetrics" | "ClientMetrics",
  args: readonly unknown[],
  routers: boolean,
): DescMethod[] {
  const methods = new Set<DescMethod>();
  args.forEach((arg, i) => {
    if (isService(arg)) {
      arg.methods.forEach((m) => methods.add(m));
    } else if (routers && isRouter(arg)) {
      arg.handlers.forEach((h) => methods.add(h.method));
    } else {
      const what = routers ? "service descriptors or a ConnectRouter" : "service descriptors";
      throw new Error(
        `connectrpc-prometheus: ${side}.initialize() takes ${what}, ` +
          `such as PingService from your generated *_pb.js file; argument ${i + 1} is ${describe(arg)}.` +
          hint(arg, routers),
      );
    }
  });
  return [...methods];
}

function isService(arg: unknown): arg is DescService {
  const s = arg as DescService | null;
  return typeof s === "object" && s !== null && s.kind === "service" && Array.isArray(s.methods);
}

function isRouter(arg: unknown): arg is ConnectRouter {
  const r = arg as ConnectRouter | null;
  return typeof r === "object" && r !== null && Array.isArray(r.handlers) && typeof r.service === "function";
}

function describe(arg: unknown): string {
  if (arg === null || arg === undefined) return String(arg);
  const kind = (arg as { kind?: unknown }).kind;
  if (typeof kind === "string") return `a descriptor of kind "${kind}"`;
  return typeof arg === "object" ? "an object that is neither" : `a ${typeof arg}`;
}

function hint(arg: unknown, routers: boolean): string {
  const kind = (arg as { kind?: unknown } | null)?.kind;
  if (kind === "file") {
    return " For a file descriptor, pass its services: initialize(...file_foo_v1.services).";
  }
  if (!routers && isRouter(arg)) {
    return " A ConnectRouter holds the services this process serves; ClientMetrics counts the services it calls.";
  }
  return "";
}
