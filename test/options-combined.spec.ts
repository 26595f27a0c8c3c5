// Options where they meet the histograms: constLabels on every histogram,
// exemplars together with codeLabelOnHistograms, and the exemplar size limit
// at its edge. Each test compares whole series, built from the test's own
// calls.
import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { Registry, type OpenMetricsContentType } from "prom-client";
import { ClientMetrics, ServerMetrics } from "../src/index.js";
import { outcome, requests, useFixture } from "./support/fixture.js";
import { pingClient, protocols, quiesce, series, service, startServer } from "./support/harness.js";

const grpc = protocols[0];

/** Labels as the exposition prints them: sorted, `le` first. */
function labelText(labels: Record<string, string>, le?: string): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return (le === undefined ? sorted : [`le="${le}"`, ...sorted]).join(",");
}

/**
 * The whole series of one histogram child with buckets `[60]`: `count`
 * observations, all of them in the 60 s bucket, and the given sum.
 */
function histogram60(name: string, labels: Record<string, string>, count: number, sum: number): Record<string, number> {
  return {
    [`${name}_bucket{${labelText(labels, "60")}}`]: count,
    [`${name}_bucket{${labelText(labels, "+Inf")}}`]: count,
    [`${name}_sum{${labelText(labels)}}`]: sum,
    [`${name}_count{${labelText(labels)}}`]: count,
  };
}

/** The recorded `_sum` of a histogram child; a duration, so positive and at most `wall` seconds. */
function sumOf(s: Record<string, number>, name: string, labels: Record<string, string>, wall: number): number {
  const sum = s[`${name}_sum{${labelText(labels)}}`];
  expect(sum, `${name}_sum ${labelText(labels)}`).to.be.a("number").greaterThan(0).and.at.most(wall);
  return sum;
}

function openMetricsRegistry(): Registry<OpenMetricsContentType> {
  const registry = new Registry<OpenMetricsContentType>();
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

const ping = { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" };
const bidi = { grpc_method: "PingStream", grpc_service: service, grpc_type: "bidi_stream" };
const constLabels = { app: "shop", zone: "z1" };

describe("constLabels on the histograms", () => {
  describe("server", () => {
    const f = useFixture({ server: { constLabels, handlingTimeHistogram: { buckets: [60] } } });

    it("are on every series of the handling-time histogram", async () => {
      const began = performance.now();
      await f.client(grpc).ping({});
      await f.client(grpc).ping({});
      const s = await f.settled("grpc_server_handling_seconds");
      const wall = (performance.now() - began) / 1000;
      const name = "grpc_server_handling_seconds";
      const labels = { ...constLabels, ...ping };
      expect(s).to.deep.equal(histogram60(name, labels, 2, sumOf(s, name, labels, wall)));
    });
  });

  describe("client", () => {
    const f = useFixture({
      client: {
        constLabels,
        handlingTimeHistogram: { buckets: [60] },
        streamReceiveTimeHistogram: { buckets: [60] },
        streamSendTimeHistogram: { buckets: [60] },
      },
    });

    it("are on every series of the handling, receive and send histograms", async () => {
      const began = performance.now();
      let got = 0;
      for await (const _ of f.client(grpc).pingStream(requests({ value: "a" }, { value: "b" }))) got++;
      const s = await f.settled("grpc_client_");
      const wall = (performance.now() - began) / 1000;
      expect(got).to.equal(2);
      const labels = { ...constLabels, ...bidi };
      const only = (name: string) => Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith(name + "_")));
      // One call.
      const handling = "grpc_client_handling_seconds";
      expect(only(handling)).to.deep.equal(histogram60(handling, labels, 1, sumOf(s, handling, labels, wall)));
      // A wait for each of the 2 responses, and the wait that ended the stream.
      const recv = "grpc_client_msg_recv_handling_seconds";
      expect(only(recv)).to.deep.equal(histogram60(recv, labels, got + 1, sumOf(s, recv, labels, wall)));
      // Each of the 2 requests.
      const send = "grpc_client_msg_send_handling_seconds";
      expect(only(send)).to.deep.equal(histogram60(send, labels, 2, sumOf(s, send, labels, wall)));
    });
  });
});

describe("exemplars with codeLabelOnHistograms", () => {
  it("go on the bucket of the call's code, on both sides, in the OpenMetrics exposition", async () => {
    const registry = openMetricsRegistry();
    const exemplars = (req: { header: Headers }) => ({ trace_id: req.header.get("x-trace-id") ?? "none" });
    const options = { registry, handlingTimeHistogram: { buckets: [60] }, codeLabelOnHistograms: true, exemplars };
    const sm = new ServerMetrics(options);
    const cm = new ClientMetrics(options);
    const server = await startServer([sm.interceptor]);
    try {
      const c = pingClient(server, grpc, [cm.interceptor]);
      expect(await outcome(() => c.ping({}, { headers: { "x-trace-id": "t-ok" } }))).to.equal("OK");
      expect(await outcome(() => c.ping({ errorCodeReturned: Code.NotFound }, { headers: { "x-trace-id": "t-nf" } }))).to.equal("NotFound");
      await quiesce(registry);
      const lines = (await registry.metrics()).split("\n");
      const s = await series(registry, "grpc_");
      for (const side of ["server", "client"]) {
        const name = `grpc_${side}_handling_seconds`;
        const histogramLines = lines.filter((l) => l.startsWith(name + "_"));
        const want: string[] = [];
        for (const [code, trace] of [["OK", "t-ok"], ["NotFound", "t-nf"]]) {
          const labels = { ...ping, grpc_code: code };
          // One call per code: its exemplar's value is that call's duration,
          // which is also the child's whole sum.
          const sum = s[`${name}_sum{${labelText(labels)}}`];
          expect(sum, `${side} ${code}`).to.be.greaterThan(0);
          want.push(
            `${name}_bucket{${labelText(labels, "60")}} 1 # {trace_id="${trace}"} ${sum} `,
            `${name}_bucket{${labelText(labels, "+Inf")}} 1`,
            `${name}_sum{${labelText(labels)}} ${sum}`,
            `${name}_count{${labelText(labels)}} 1`,
          );
        }
        // The exemplar line ends with its timestamp; compare all before it.
        expect(histogramLines.map((l) => l.replace(/(# \{.*\} \S+ )\S+$/, "$1")), side).to.deep.equal(want);
        expect(histogramLines[0], side).to.match(/ \d+(\.\d+)?$/);
        // And on the handled counter, each code has its own call's exemplar.
        for (const [code, trace] of [["OK", "t-ok"], ["NotFound", "t-nf"]]) {
          const handled = lines.find((l) => l.startsWith(`grpc_${side}_handled_total{${labelText({ ...ping, grpc_code: code })}}`));
          expect(handled, `${side} ${code}`).to.match(new RegExp(`\\} 1 # \\{trace_id="${trace}"\\} 1 \\d+(\\.\\d+)?$`));
        }
      }
    } finally {
      await server.close();
    }
  });
});

describe("exemplar size limit", () => {
  // OpenMetrics: an exemplar's label names and values together have at most
  // 128 characters.
  const cases: [string, Record<string, string>, number][] = [
    ["one label, 128 characters", { trace_id: "t".repeat(120) }, 128],
    ["two labels, 128 characters", { trace_id: "t".repeat(100), span_id: "s".repeat(13) }, 128],
    ["one label, 129 characters", { trace_id: "t".repeat(121) }, 129],
    ["two labels, 129 characters", { trace_id: "t".repeat(100), span_id: "s".repeat(14) }, 129],
  ];
  for (const [title, exemplar, size] of cases) {
    const kept = size <= 128;
    it(`${kept ? "keeps" : "drops"} an exemplar of ${title}${kept ? "" : ", tells onError, and counts the call"}`, async () => {
      const registry = openMetricsRegistry();
      const errors: string[] = [];
      const options = {
        registry,
        handlingTimeHistogram: { buckets: [60] },
        exemplars: () => exemplar,
        onError: (e: unknown) => errors.push((e as Error).message),
      };
      const sm = new ServerMetrics(options);
      const cm = new ClientMetrics(options);
      const server = await startServer([sm.interceptor]);
      try {
        const c = pingClient(server, grpc, [cm.interceptor]);
        expect(await outcome(() => c.ping({}))).to.equal("OK");
        await quiesce(registry);
        const lines = (await registry.metrics()).split("\n");
        const exemplarText = `{${Object.entries(exemplar).map(([k, v]) => `${k}="${v}"`).join(",")}}`;
        for (const side of ["server", "client"]) {
          const handled = lines.find((l) => l.startsWith(`grpc_${side}_handled_total{${labelText({ ...ping, grpc_code: "OK" })}}`));
          const bucket = lines.find((l) => l.startsWith(`grpc_${side}_handling_seconds_bucket{${labelText(ping, "60")}}`));
          if (kept) {
            expect(handled, side).to.match(new RegExp(`\\} 1 # ${escape(exemplarText)} 1 \\d+(\\.\\d+)?$`));
            expect(bucket, side).to.match(new RegExp(`\\} 1 # ${escape(exemplarText)} [0-9.e-]+ \\d+(\\.\\d+)?$`));
          } else {
            // Counted, with no exemplar.
            expect(handled, side).to.equal(`grpc_${side}_handled_total{${labelText({ ...ping, grpc_code: "OK" })}} 1`);
            expect(bucket, side).to.equal(`grpc_${side}_handling_seconds_bucket{${labelText(ping, "60")}} 1`);
          }
        }
        const message = `connectrpc-prometheus: exemplar labels have ${size} characters, more than OpenMetrics' 128; exemplar dropped.`;
        // Once per call and side.
        expect(errors).to.deep.equal(kept ? [] : [message, message]);
        expect(lines.filter((l) => l.includes(" # ")).length).to.equal(kept ? 4 : 0);
      } finally {
        await server.close();
      }
    });
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
