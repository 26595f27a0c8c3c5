// What the recipes in this folder serve, and where. In your server, your own
// services and configuration take its place.
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";

export { PingService };

/** routes registers PingService: `ping` echoes, `pingError` fails with NotFound. */
export function routes(router: ConnectRouter): void {
  router.service(PingService, {
    ping: (req) => ({ value: req.value, counter: 1 }),
    pingError: () => {
      throw new ConnectError("no such thing", Code.NotFound);
    },
  });
}

/** host is the address both servers listen on: $HOST, or 127.0.0.1. */
export const host = process.env.HOST ?? "127.0.0.1";

/** port is the API's port: $PORT, or 8080 (0 takes any free port). */
export const port = Number(process.env.PORT ?? 8080);

/** metricsPort is the port of /metrics: $METRICS_PORT, or 9464 (0 takes any free port). */
export const metricsPort = Number(process.env.METRICS_PORT ?? 9464);

/** announce prints where the API and /metrics listen, one line each. */
export function announce(apiPort: number, metricsPort: number): void {
  console.log(`API: http://${host}:${apiPort}`);
  console.log(`metrics: http://${host}:${metricsPort}/metrics`);
}
