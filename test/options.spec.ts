import { expect } from "chai";
import { Registry, register as globalRegistry } from "prom-client";
import { ClientMetrics, ServerMetrics, type ClientMetricsOptions } from "../src/index.js";
import { counters } from "./support/expect.js";
import { outcome, useFixture } from "./support/fixture.js";
import { protocols, series } from "./support/harness.js";

const grpc = protocols[0];

describe("options", () => {
  describe("mistakes fail at construction with a message that says what to do", () => {
    const cases: [string, unknown, RegExp][] = [
      ["an unknown key", { registry: new Registry(), histogram: true }, /unknown option "histogram"\. Known options: registry, handlingTimeHistogram, flavor, legacy, constLabels, onError/],
      ["a client-only option on the server", { registry: new Registry(), streamReceiveTimeHistogram: true }, /ServerMetrics: "streamReceiveTimeHistogram" is a ClientMetrics option: only clients time each stream message/],
      ["a registry that is not one", { registry: {} }, /"registry" must be a prom-client Registry/],
      ["a histogram option of the wrong type", { registry: new Registry(), handlingTimeHistogram: "yes" }, /"handlingTimeHistogram" must be true, false or \{ buckets: number\[\] \}/],
      ["an unknown histogram key", { registry: new Registry(), handlingTimeHistogram: { bucket: [1] } }, /unknown key "bucket" in "handlingTimeHistogram"/],
      ["empty buckets", { registry: new Registry(), handlingTimeHistogram: { buckets: [] } }, /"handlingTimeHistogram\.buckets" must be a non-empty array/],
      ["buckets out of order", { registry: new Registry(), handlingTimeHistogram: { buckets: [0.1, 0.5, 0.5] } }, /must be strictly increasing, but 0\.5 follows 0\.5/],
      ["a bucket that is not a number", { registry: new Registry(), handlingTimeHistogram: { buckets: [0.1, Infinity] } }, /"handlingTimeHistogram\.buckets\[1\]" must be a finite number, got Infinity/],
      ["an invalid const label name", { registry: new Registry(), constLabels: { "1app": "x" } }, /invalid label name "1app"/],
      ["a reserved const label name", { registry: new Registry(), constLabels: { __name: "x" } }, /invalid label name "__name"/],
      ["a const label that collides with ours", { registry: new Registry(), constLabels: { grpc_code: "x" } }, /may not set "grpc_code": the library sets it/],
      ["a const label with a non-string value", { registry: new Registry(), constLabels: { app: 1 } }, /"constLabels\.app" must be a string, got number/],
      ["a non-boolean legacy", { registry: new Registry(), legacy: "yes" }, /"legacy" must be true or false/],
      ["a non-function onError", { registry: new Registry(), onError: "log" }, /"onError" must be a function/],
    ];
    for (const [name, options, message] of cases) {
      it(`rejects ${name}`, () => {
        expect(() => new ServerMetrics(options as never)).to.throw(Error, message);
      });
    }

    it("rejects bad client histogram options too", () => {
      const options: ClientMetricsOptions = { registry: new Registry(), streamSendTimeHistogram: { buckets: [2, 1] } };
      expect(() => new ClientMetrics(options)).to.throw(/ClientMetrics: "streamSendTimeHistogram\.buckets" must be strictly increasing/);
    });
  });

  describe("registries", () => {
    it("take one ServerMetrics and one ClientMetrics", () => {
      const registry = new Registry();
      new ServerMetrics({ registry, handlingTimeHistogram: true });
      new ClientMetrics({ registry, handlingTimeHistogram: true });
      expect(registry.getMetricsAsArray().map((m) => m.name)).to.have.length(10);
    });

    it("refuse a second ServerMetrics, naming the metric and leaving the registry as it was", async () => {
      const registry = new Registry();
      new ServerMetrics({ registry });
      const before = await registry.metrics();
      expect(() => new ServerMetrics({ registry, handlingTimeHistogram: true })).to.throw(
        /the metric grpc_server_started_total is already registered in this registry\. .*pass another `registry` option/,
      );
      expect(await registry.metrics()).to.equal(before);
    });

    it("refuse a second ClientMetrics", () => {
      const registry = new Registry();
      new ClientMetrics({ registry });
      expect(() => new ClientMetrics({ registry })).to.throw(/grpc_client_started_total is already registered/);
    });

    it("default to prom-client's global registry", () => {
      const names = () => globalRegistry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith("grpc_"));
      expect(names()).to.deep.equal([]);
      new ServerMetrics();
      try {
        expect(names()).to.deep.equal([
          "grpc_server_started_total",
          "grpc_server_handled_total",
          "grpc_server_msg_received_total",
          "grpc_server_msg_sent_total",
        ]);
      } finally {
        for (const n of names()) globalRegistry.removeSingleMetric(n);
      }
    });
  });

  describe("constLabels", () => {
    const constLabels = { app: "shop", zone: "eu-1" };
    const f = useFixture({ server: { constLabels }, client: { constLabels: { app: "shop-client" } } });

    it("are added to every series of their side", async () => {
      await f.client(grpc).ping({});
      expect(await f.settled("grpc_server_")).to.deep.equal(
        counters("server", [{ type: "unary", method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } }], constLabels),
      );
      expect(await f.settled("grpc_client_")).to.deep.equal(
        counters("client", [{ type: "unary", method: "Ping", started: 1, received: 1, sent: 1, handled: { OK: 1 } }], { app: "shop-client" }),
      );
    });
  });

  describe("onError", () => {
    const errors: unknown[] = [];
    const f = useFixture({
      server: {
        onError: (e) => errors.push(e),
        labels: { names: ["tenant", "region"], fromRequest: (req) => [req.header.get("x-tenant") ?? "t"] },
      },
    });

    it("hears of labels.fromRequest returning the wrong number of values; the call goes on, missing values are \"\"", async () => {
      errors.length = 0;
      expect(await outcome(() => f.client(grpc).ping({ value: "still works" }))).to.equal("OK");
      expect(errors.map((e) => (e as Error).message)).to.deep.equal([
          'connectrpc-prometheus: labels.fromRequest returned 1 values for the 2 names tenant, region; the missing ones are recorded as "".',
      ]);
      const s = await series(f.registry, "grpc_server_handled_total");
      expect(s).to.deep.equal({
        [`grpc_server_handled_total{grpc_code="OK",grpc_method="Ping",grpc_service="connectrpc.prometheus.test.v1.PingService",grpc_type="unary",region="",tenant="t"}`]: 1,
      });
    });
  });
});
