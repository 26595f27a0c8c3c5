// Misconfiguration and misuse: a duplicate registry, wrong options, the same
// interceptor twice in one chain, and option callbacks that throw (the call
// must not notice; `onError` hears of it).
import { expect } from "chai";
import { Registry, type OpenMetricsContentType } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../../src/index.js";
import { pingClient, protocols, quiesce, series, startServer, type TestServer } from "../support/harness.js";
import { assertInvariants, counterSeries, requests, settle, Tally } from "./lib.js";

describe("faults: misuse", () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it("a duplicate registry and wrong options fail at construction with a clear error", () => {
    const registry = new Registry();
    new ServerMetrics({ registry });
    expect(() => new ServerMetrics({ registry })).to.throw(/grpc_server_started_total.*registry/s);
    expect(() => new ClientMetrics({ registry, handlingTimeHistogram: { buckets: [1, 1] } })).to.throw(/strictly increasing/);
    expect(() => new ServerMetrics({ registry: new Registry(), onError: "warn" } as never)).to.throw(/onError/);
    // The failed constructions registered nothing more.
    expect(registry.getMetricsAsArray().map((m) => m.name).sort()).to.deep.equal([
      "grpc_server_handled_total",
      "grpc_server_msg_received_total",
      "grpc_server_msg_sent_total",
      "grpc_server_started_total",
    ]);
  });

  it("the same interceptor instance twice in one chain counts every call twice (pinned)", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({ registry });
    const cm = new ClientMetrics({ registry });
    const server = await startServer([sm.interceptor, sm.interceptor]);
    servers.push(server);
    const tally = new Tally();
    for (const p of protocols) {
      const client = pingClient(server, p, [cm.interceptor, cm.interceptor]);
      await client.ping({ value: "x" });
      expect(await settle(() => client.pingError({ value: "x", errorCodeReturned: 7 }))).to.equal("PermissionDenied");
      let got = 0;
      for await (const _ of client.pingList({ value: "x", responseCount: 2 })) got++;
      expect(got).to.equal(2);
      await client.pingClientStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }));
      for (let twice = 0; twice < 2; twice++) {
        tally.call("Ping", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });
        tally.call("PingError", { received: 1, sent: 0, code: "PermissionDenied" }, { sent: 1, received: 0, code: "PermissionDenied" });
        tally.call("PingList", { received: 1, sent: 2, code: "OK" }, { sent: 1, received: 2, code: "OK" });
        tally.call("PingClientStream", { received: 2, sent: 1, code: "OK" }, { sent: 2, received: 1, code: "OK" });
      }
    }
    await quiesce(registry);
    const s = counterSeries(await series(registry));
    expect(s).to.deep.equal(tally.series());
    assertInvariants(s);
  });

  for (const side of ["server", "client"] as const) {
    it(`every ${side} callback throwing (exemplars, labels, filter): calls unaffected, onError hears each, no count lost`, async () => {
      const registry = new Registry<OpenMetricsContentType>();
      registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
      const errors: unknown[] = [];
      const broken = {
        onError: (e: unknown) => errors.push(e),
        exemplars: (): Record<string, string> => {
          throw new Error("boom: exemplars");
        },
        labels: {
          names: ["tenant"],
          fromRequest: (): string[] => {
            throw new Error("boom: labels");
          },
        },
        filter: (): boolean => {
          throw new Error("boom: filter");
        },
      };
      const sm = new ServerMetrics({ registry: registry as never, ...(side === "server" ? broken : {}) });
      const cm = new ClientMetrics({ registry: registry as never, ...(side === "client" ? broken : {}) });
      const server = await startServer([sm.interceptor]);
      servers.push(server);
      let calls = 0;
      for (const p of protocols) {
        const client = pingClient(server, p, [cm.interceptor]);
        expect((await client.ping({ value: "x" })).value).to.equal("x");
        expect(await settle(() => client.pingError({ value: "x", errorCodeReturned: 7 }))).to.equal("PermissionDenied");
        const got: number[] = [];
        for await (const m of client.pingList({ value: "x", responseCount: 2 })) got.push(m.counter);
        expect(got).to.deep.equal([0, 1]);
        const res = await client.pingClientStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }));
        expect(res.counter).to.equal(2);
        calls += 4;
        if (p.httpVersion === "2") {
          const echoed: string[] = [];
          for await (const m of client.pingStream(requests([{ value: "a" }, { value: "b" }], { n: 0 }))) echoed.push(m.value);
          expect(echoed).to.deep.equal(["a", "b"]);
          calls++;
        }
      }
      await quiesce(registry);
      // Each call's exemplar and labels failed once; the filter once per method, and it kept the method.
      const messages = errors.map((e) => (e as Error).message);
      expect(messages.filter((m) => m === "boom: exemplars")).to.have.length(calls);
      expect(messages.filter((m) => m === "boom: labels")).to.have.length(calls);
      expect(messages.filter((m) => m === "boom: filter")).to.have.length(5);
      expect(messages).to.have.length(2 * calls + 5);
      // The broken side counted every call, with "" for the label it could not compute.
      const s = counterSeries(await series(registry));
      const tally = new Tally();
      for (const p of protocols) {
        tally.call("Ping", { received: 1, sent: 1, code: "OK" }, { sent: 1, received: 1, code: "OK" });
        tally.call("PingError", { received: 1, sent: 0, code: "PermissionDenied" }, { sent: 1, received: 0, code: "PermissionDenied" });
        tally.call("PingList", { received: 1, sent: 2, code: "OK" }, { sent: 1, received: 2, code: "OK" });
        tally.call("PingClientStream", { received: 2, sent: 1, code: "OK" }, { sent: 2, received: 1, code: "OK" });
        if (p.httpVersion === "2") {
          tally.call("PingStream", { received: 2, sent: 2, code: "OK" }, { sent: 2, received: 2, code: "OK" });
        }
      }
      const expected: Record<string, number> = {};
      for (const [k, v] of Object.entries(tally.series())) {
        expected[k.startsWith(`grpc_${side}_`) ? k.replace(/\}$/, ',tenant=""}') : k] = v;
      }
      expect(s).to.deep.equal(expected);
    });
  }

  it("the default onError warns once on the console, whatever the number of failures", async () => {
    const registry = new Registry();
    const sm = new ServerMetrics({
      registry,
      labels: {
        names: ["tenant"],
        fromRequest: () => {
          throw new Error("boom");
        },
      },
    });
    const server = await startServer([sm.interceptor]);
    servers.push(server);
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      const client = pingClient(server, protocols[0], []);
      for (let i = 0; i < 5; i++) {
        await client.ping({ value: "x" });
      }
    } finally {
      console.warn = warn;
    }
    expect(warnings.length).to.equal(1);
    expect(String(warnings[0][0])).to.match(/connectrpc-prometheus/);
    expect((warnings[0][1] as Error).message).to.equal("boom");
  });

  it("the registry cleared while calls are in flight: the calls go on unaffected", async () => {
    const registry = new Registry();
    const errors: unknown[] = [];
    const sm = new ServerMetrics({ registry, onError: (e) => errors.push(e) });
    const cm = new ClientMetrics({ registry, onError: (e) => errors.push(e) });
    const server = await startServer([sm.interceptor]);
    servers.push(server);
    const client = pingClient(server, protocols[0], [cm.interceptor]);
    const inFlight = [
      client.ping({ value: "x", sleepTimeMs: 100 }),
      (async () => {
        const got: number[] = [];
        for await (const m of client.pingList({ value: "x", responseCount: 3, sleepTimeMs: 30 })) got.push(m.counter);
        return got;
      })(),
    ];
    registry.clear();
    const [unary, list] = await Promise.all(inFlight);
    expect(unary).to.deep.include({ value: "x" });
    expect(list).to.deep.equal([0, 1, 2]);
    // The instruments were unregistered, not broken: nothing was reported.
    expect(errors).to.deep.equal([]);
    expect(await series(registry)).to.deep.equal({});
  });
});
