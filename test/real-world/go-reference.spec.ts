// Our server against the reference: the same calls, from the same client, to
// our connect-node server with ServerMetrics and to a grpc-go server with
// go-grpc-prometheus (Debian's golang-github-grpc-ecosystem-go-grpc-prometheus-dev,
// test/peers/go/src/pingpeer/cmd/ping-server), both with the handling-time
// histogram. Both servers implement PingService alike (test/support/ping-service.ts
// and ping-server's main.go). Their grpc_server_* families must be the same:
// HELP, TYPE, every series' label names and values, every counter's value,
// and each histogram series' _count, +Inf bucket and `le` values.
//
// Not compared, because they differ for reasons that are not the metrics':
// the order of labels within a line (prom-client prints `le` first, Go last:
// docs/metrics.md, "What no flavor reproduces") and of lines, bucket counts
// below +Inf and `_sum` (timings), and families other than grpc_server_*
// (Go's go_*, process_*, promhttp_*). Every other difference is listed in
// `differences` below, with what docs/metrics.md says of it, and is checked
// where it occurs.
import { Code } from "@connectrpc/connect";
import { expect } from "chai";
import { Registry } from "prom-client";
import { PingService, ThrowKind } from "../../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { ServerMetrics } from "../../src/index.js";
import { comparable, labelKey, parseExposition, type ComparableFamily } from "../peers/exposition.js";
import { buildGoPeers, startGoServer, type GoServer } from "../peers/go-peers.js";
import { runScriptWithConnect, runScriptWithGo, type ScriptCall, type ScriptResult } from "../peers/ping-script.js";
import { quiesce, service, startServer, type TestServer } from "../support/harness.js";
import { pingService } from "../support/ping-service.js";

type View = Record<string, ComparableFamily>;

const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);

/** The fixed traffic: every RPC kind, OK and failing with several codes. */
const traffic: readonly ScriptCall[] = [
  ...times<ScriptCall>(2, { method: "PingEmpty", requests: [] }),
  ...times<ScriptCall>(3, { method: "Ping", requests: [{ value: "ok" }] }),
  ...times<ScriptCall>(2, { method: "Ping", requests: [{ value: "nf", errorCodeReturned: Code.NotFound }] }),
  { method: "Ping", requests: [{ errorCodeReturned: Code.PermissionDenied }] },
  { method: "Ping", requests: [{ errorCodeReturned: Code.Internal }] },
  { method: "Ping", requests: [{ errorCodeReturned: Code.InvalidArgument }] },
  // A handler that fails with a plain error, not a status: see `differences`.
  { method: "Ping", requests: [{ errorCodeReturned: Code.FailedPrecondition, throwKind: ThrowKind.PLAIN_ERROR }] },
  { method: "PingError", requests: [{}] },
  { method: "PingError", requests: [{ errorCodeReturned: Code.ResourceExhausted }] },
  { method: "PingError", requests: [{ errorCodeReturned: Code.Unauthenticated }] },
  { method: "PingList", requests: [{ value: "five", responseCount: 5 }] },
  { method: "PingList", requests: [{ responseCount: 0 }] },
  { method: "PingList", requests: [{ responseCount: 3, errorCodeReturned: Code.DataLoss }] },
  { method: "PingList", requests: [{ responseCount: 0, errorCodeReturned: Code.Unavailable }] },
  { method: "PingClientStream", requests: [{ value: "a" }, { value: "b" }, { value: "c" }, { value: "d" }] },
  { method: "PingClientStream", requests: [] },
  { method: "PingClientStream", requests: [{ value: "a" }, { errorCodeReturned: Code.Aborted }] },
  { method: "PingStream", requests: [{ value: "a" }, { value: "b" }, { value: "c" }] },
  { method: "PingStream", requests: [] },
  { method: "PingStream", requests: [{ value: "a" }, { value: "b" }, { errorCodeReturned: Code.OutOfRange }] },
];

/** The plain-error call, by its place in `traffic`. */
const plainError = traffic.findIndex((c) => c.requests[0]?.throwKind === ThrowKind.PLAIN_ERROR);

/** go-grpc-prometheus's server families: server_metrics.go, NewServerMetrics and EnableHandlingTimeHistogram. */
const goFamilies: Record<string, { help: string; type: string }> = {
  grpc_server_handled_total: { type: "counter", help: "Total number of RPCs completed on the server, regardless of success or failure." },
  grpc_server_handling_seconds: { type: "histogram", help: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server." },
  grpc_server_msg_received_total: { type: "counter", help: "Total number of RPC stream messages received on the server." },
  grpc_server_msg_sent_total: { type: "counter", help: "Total number of gRPC stream messages sent by the server." },
  grpc_server_started_total: { type: "counter", help: "Total number of RPCs started on the server." },
};

/**
 * A way our server and grpc-go with go-grpc-prometheus differ, with what
 * docs/metrics.md says of it. `apply` checks the difference in what Go
 * recorded and turns it into what we must have recorded.
 */
interface Difference {
  readonly what: string;
  readonly docs: string;
  apply(expected: View, ours: View): void;
}

/** Every difference this spec knows of (a deadline's race is the last test's). */
const differences: Record<"plainError" | "emptyFamily", Difference> = {
  plainError: {
    what:
      "A handler that fails with a plain error (not a ConnectError or status): connect-node sends Internal, " +
      "grpc-go sends Unknown, and each server records the code its client is sent.",
    docs:
      'docs/metrics.md, "When each is recorded", Server: "`Internal` for any other thrown value, because that is ' +
      'what connect-node puts on the wire"; "Failure modes": "handler throws a plain `Error` or a string".',
    apply(expected) {
      const handled = expected.grpc_server_handled_total?.series;
      if (!handled) throw new Error("no grpc_server_handled_total");
      const labels = { grpc_type: "unary", grpc_service: service, grpc_method: "Ping" };
      const unknown = labelKey({ ...labels, grpc_code: "Unknown" });
      const internal = labelKey({ ...labels, grpc_code: "Internal" });
      expect(handled[unknown], "Go recorded the plain error as Unknown").to.equal(1);
      delete handled[unknown];
      handled[internal] = ((handled[internal] as number | undefined) ?? 0) + 1;
    },
  },
  emptyFamily: {
    what:
      "A family without series (no call has sent a message yet, say): prom-client prints its HELP and TYPE " +
      "lines and no samples; Go's client_golang leaves the family out. Neither has a series for Prometheus to store.",
    docs:
      'NOT in docs/metrics.md yet (reported to the lead): it belongs under "What no flavor reproduces", with the ' +
      "other things that stay prom-client's.",
    apply(expected, ours) {
      for (const [name, f] of Object.entries(ours)) {
        if (name in expected) continue;
        expect(f.series, `${name}: only an empty family may be missing from Go's exposition`).to.deep.equal({});
        expected[name] = { ...goFamilies[name], series: {} };
      }
    },
  },
};

/** What the client saw from us, given what it saw from Go: the plain-error call is Internal. */
function oursFromGo(go: readonly ScriptResult[]): ScriptResult[] {
  return go.map((r, i) => (i === plainError ? { ...r, code: "Internal" } : r));
}

/** Waits until Go's started_total equals the sum of its handled_total, or 3 s; returns the exposition. */
async function goQuiesce(go: GoServer): Promise<string> {
  const until = Date.now() + 3000;
  for (;;) {
    const text = await go.scrape();
    const f = parseExposition(text);
    const sum = (name: string) => (f.get(name)?.samples ?? []).reduce((a, s) => a + s.value, 0);
    if (sum("grpc_server_started_total") === sum("grpc_server_handled_total") || Date.now() > until) return text;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("real world: our server against grpc-go with go-grpc-prometheus", function () {
  this.timeout(30_000);
  let go: GoServer | undefined;
  let ours: TestServer | undefined;
  before(async function () {
    this.timeout(300_000);
    await buildGoPeers();
  });
  afterEach(async () => {
    await go?.close();
    await ours?.close();
    go = ours = undefined;
  });

  /** Both servers with the handling-time histogram, and our registry. */
  async function start(initialize: boolean) {
    go = await startGoServer({ histogram: true, initialize });
    const registry = new Registry();
    const metrics = new ServerMetrics({ registry, handlingTimeHistogram: true });
    ours = await startServer([metrics.interceptor], (router) => {
      router.service(PingService, pingService);
      // As Go's grpc_prometheus.Register(server): every method registered on the router.
      if (initialize) metrics.initialize(router);
    });
    return { go, ours, registry };
  }

  /** Both servers' grpc_server_* families after the calls, and Go's with the differences applied. */
  async function views(
    s: { go: GoServer; registry: Registry },
    apply: readonly Difference[],
  ): Promise<{ go: View; expected: View; ours: View }> {
    await quiesce(s.registry);
    const goView = comparable(parseExposition(await goQuiesce(s.go)), "grpc_server_");
    const ourView = comparable(parseExposition(await s.registry.metrics()), "grpc_server_");
    for (const [name, f] of Object.entries(goView)) expect({ help: f.help, type: f.type }, name).to.deep.equal(goFamilies[name]);
    const expected = structuredClone(goView);
    for (const d of apply) d.apply(expected, ourView);
    return { go: goView, expected, ours: ourView };
  }

  const clients = [
    { name: "a Connect-ES client (createGrpcTransport)", run: runScriptWithConnect },
    { name: "the grpc-go ping-client", run: (url: string, calls: readonly ScriptCall[]) => runScriptWithGo(new URL(url).host, calls) },
  ];

  for (const client of clients) {
    it(`the same ${traffic.length} calls from ${client.name}: the same grpc_server_* families, series and values, but for the listed differences`, async () => {
      const s = await start(false);
      // One after the other: the servers share the machine's two cores.
      const goSaw = await client.run(s.go.baseUrl, traffic);
      const weSaw = await client.run(s.ours.h2Url, traffic);
      expect(weSaw, "what the client saw").to.deep.equal(oursFromGo(goSaw));
      expect(goSaw.map((r) => r.code)).to.include.members(["OK", "NotFound", "PermissionDenied", "Internal", "DataLoss", "Aborted", "OutOfRange"]);

      const v = await views(s, [differences.plainError]);
      expect(Object.keys(v.go)).to.deep.equal(Object.keys(goFamilies));
      const started = Object.values(v.go.grpc_server_started_total.series) as number[];
      expect(started.reduce((a, b) => a + b, 0), "calls Go recorded").to.equal(traffic.length);
      expect(v.ours).to.deep.equal(v.expected);
    });
  }

  it("initialize() and Go's InitializeMetrics(server): the same zero series", async () => {
    const s = await start(true);
    const v = await views(s, []);
    const counts = Object.fromEntries(Object.entries(v.go).map(([name, f]) => [name, Object.keys(f.series).length]));
    // 6 methods; handled for each of the 17 codes.
    expect(counts).to.deep.equal({
      grpc_server_handled_total: 6 * 17,
      grpc_server_handling_seconds: 6,
      grpc_server_msg_received_total: 6,
      grpc_server_msg_sent_total: 6,
      grpc_server_started_total: 6,
    });
    for (const f of Object.values(v.go)) {
      for (const x of Object.values(f.series)) expect(typeof x === "number" ? x : x.count).to.equal(0);
    }
    expect(v.ours).to.deep.equal(v.go);
  });

  // A client's deadline, listed rather than compared exactly: the client
  // resets the stream when its deadline passes (a grpc-go client with CANCEL,
  // a Connect-ES client with INTERNAL_ERROR), while the server's own timer,
  // started from grpc-timeout when the request arrived, runs out at about the
  // same moment. grpc-go records Canceled when the reset wins and
  // DeadlineExceeded when its timer does, whichever the client; so does our
  // server for a grpc-go client's CANCEL (docs/metrics.md, "Failure modes",
  // footnote 2). A Connect-ES client's INTERNAL_ERROR reset of a call with a
  // deadline we record as DeadlineExceeded always (docs/metrics.md, "When each
  // is recorded"). All else must be the same.
  for (const client of clients) {
    it(`a deadline from ${client.name}: Canceled or DeadlineExceeded on both, as documented; all else the same`, async () => {
      const s = await start(false);
      const n = 8;
      const calls = times<ScriptCall>(n, { method: "Ping", requests: [{ sleepTimeMs: 5000 }], timeoutMs: 100 });
      const saw = times<ScriptResult>(n, { code: "DeadlineExceeded", messages: 0 });
      expect(await client.run(s.go.baseUrl, calls)).to.deep.equal(saw);
      expect(await client.run(s.ours.h2Url, calls)).to.deep.equal(saw);
      const v = await views(s, [differences.emptyFamily]);
      const labels = { grpc_type: "unary", grpc_service: service, grpc_method: "Ping" };
      const deadline = labelKey({ ...labels, grpc_code: "DeadlineExceeded" });
      const canceled = labelKey({ ...labels, grpc_code: "Canceled" });
      const tally = (view: View, side: string) => {
        const handled = view.grpc_server_handled_total.series as Record<string, number>;
        expect(Object.keys(handled).filter((k) => k !== deadline && k !== canceled), `${side}: other codes`).to.deep.equal([]);
        const t = { DeadlineExceeded: handled[deadline] ?? 0, Canceled: handled[canceled] ?? 0 };
        expect(t.DeadlineExceeded + t.Canceled, `${side}: handled`).to.equal(n);
        return t;
      };
      const goTally = tally(v.expected, "grpc-go");
      const ourTally = tally(v.ours, "ours");
      if (client.run === runScriptWithConnect) expect(ourTally, "ours, Connect-ES deadlines").to.deep.equal({ DeadlineExceeded: n, Canceled: 0 });
      console.log(`      ${n} deadlines: grpc-go recorded ${JSON.stringify(goTally)}, ours ${JSON.stringify(ourTally)}`);
      // The race aside, the same: started, received, nothing sent, n observations.
      const withoutHandled = (view: View) => ({ ...view, grpc_server_handled_total: undefined });
      expect(withoutHandled(v.ours)).to.deep.equal(withoutHandled(v.expected));
    });
  }
});
