// Errors that connect-node raises after the interceptor chain has returned:
// what the metrics record then is pinned here, and documented in
// docs/metrics.md (failure modes, note 6).
import { expect } from "chai";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { counters } from "../support/expect.js";
import { drain, outcome } from "../support/fixture.js";
import { pingClient, protocols, quiesce, series, startServer } from "../support/harness.js";

describe("faults: errors after the interceptor chain", () => {
  for (const p of protocols) {
    it(`${p.name}: a response over the server's writeMaxBytes is ResourceExhausted for the caller, OK (unary) or Canceled (stream) on the server`, async () => {
      const registry = new Registry();
      const sm = new ServerMetrics({ registry });
      const cm = new ClientMetrics({ registry });
      const server = await startServer([sm.interceptor], undefined, { writeMaxBytes: 20 });
      try {
        const c = pingClient(server, p, [cm.interceptor]);
        expect(await outcome(() => c.ping({ value: "x".repeat(100) }))).to.equal("ResourceExhausted");
        expect(await outcome(() => drain(c.pingList({ value: "x".repeat(100), responseCount: 2 })))).to.equal("ResourceExhausted");
        await quiesce(registry);
        expect(await series(registry)).to.deep.equal({
          ...counters("server", [
            { type: "unary", method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } },
            { type: "server_stream", method: "PingList", started: 1, received: 1, sent: 1, handled: { Canceled: 1 } },
          ]),
          ...counters("client", [
            { type: "unary", method: "Ping", started: 1, received: 0, sent: 1, handled: { ResourceExhausted: 1 } },
            { type: "server_stream", method: "PingList", started: 1, received: 0, sent: 1, handled: { ResourceExhausted: 1 } },
          ]),
        });
      } finally {
        await server.close();
      }
    });
  }
});
