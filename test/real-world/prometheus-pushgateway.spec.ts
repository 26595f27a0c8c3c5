// Issue 12: a batch job pushes its registry to a real Pushgateway (Debian's
// prometheus-pushgateway) with prom-client's Pushgateway client. Everything
// the job recorded, histograms included, must arrive, exactly.
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { expect } from "chai";
import { Pushgateway, Registry } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { drain, requests } from "../support/fixture.js";
import { pingClient, protocols, quiesce, startServer } from "../support/harness.js";
import { parseExposition } from "../support/prometheus.js";

/** The Pushgateway binary; system-deps.sh installs Debian's prometheus-pushgateway. */
export const pushgatewayBin = process.env.PUSHGATEWAY_BIN ?? "prometheus-pushgateway";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function startPushgateway(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(pushgatewayBin, [`--web.listen-address=127.0.0.1:${port}`, "--persistence.interval=0"], {
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`${pushgatewayBin} did not become ready on ${url}`);
}

describe("real world: a registry pushed to a real Pushgateway", function () {
  this.timeout(30_000);
  let gateway: { url: string; child: ChildProcess } | undefined;
  after(() => gateway?.child.kill());

  it("arrives with every counter and histogram series, exactly", async () => {
    gateway = await startPushgateway();
    const registry = new Registry();
    const sm = new ServerMetrics({ registry, handlingTimeHistogram: true });
    const cm = new ClientMetrics({ registry, handlingTimeHistogram: true, streamReceiveTimeHistogram: true });
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, protocols[0], [cm.interceptor]);
      await c.ping({});
      await c.ping({});
      expect(await drain(c.pingList({ responseCount: 3 }))).to.equal(3);
      await c.pingClientStream(requests({}, {}));
      await quiesce(registry);
    } finally {
      await server.close();
    }
    const pushed = parseExposition(await registry.metrics());
    await new Pushgateway(gateway.url, {}, registry).pushAdd({ jobName: "batch" });
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    // parseExposition leaves out the job and instance labels that the gateway adds.
    const got = parseExposition(text);
    expect(got).to.deep.equal(pushed);
    const count = (name: string) => Object.entries(got).filter(([k]) => k.startsWith(name)).reduce((n, [, v]) => n + v, 0);
    expect(count("grpc_server_handling_seconds_count")).to.equal(4);
    expect(count("grpc_client_msg_recv_handling_seconds_count")).to.equal(4 + 1);
    expect(count("grpc_server_started_total")).to.equal(4);
  });
});
