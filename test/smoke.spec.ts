import { expect } from "chai";
import { Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { pingClient, protocols, quiesce, series, startServer } from "./support/harness.js";

describe("smoke", () => {
  for (const p of protocols) {
    it(p.name, async () => {
      const registry = new Registry();
      const sm = new ServerMetrics({ registry, handlingTimeHistogram: true });
      const cm = new ClientMetrics({ registry, handlingTimeHistogram: true, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true });
      const server = await startServer([sm.interceptor]);
      try {
        const client = pingClient(server, p, [cm.interceptor]);
        await client.ping({ value: "x" });
        await client.pingError({ value: "x", errorCodeReturned: 5 }).catch(() => {});
        for await (const _ of client.pingList({ value: "x", responseCount: 3 }));
        await client.pingClientStream((async function* () { yield { value: "a" }; yield { value: "b" }; })());
        if (p.httpVersion === "2") {
          for await (const _ of client.pingStream((async function* () { yield { value: "a" }; yield { value: "b" }; })()));
        }
        await quiesce(registry);
        console.log(await registry.metrics());
      } finally {
        await server.close();
      }
    });
  }
});
