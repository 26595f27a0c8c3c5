// A real browser: headless Chromium loads a page, bundled with esbuild, that
// calls the test server with @connectrpc/connect-web over gRPC-Web and over
// the Connect protocol. The server's exposition must show exactly those calls.
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { Registry } from "prom-client";
import type { Page } from "playwright-core";
import { ServerMetrics } from "../../src/index.js";
import type { BrowserProtocol, BrowserResults } from "../fixtures/browser-page.js";
import { bundlePage, launchChromium, startPageServer, type Browser, type Bundle, type PageServer } from "../support/browser.js";
import { counters, only } from "../support/expect.js";
import { key, quiesce, series, service } from "../support/harness.js";

const entry = fileURLToPath(new URL("../fixtures/browser-page.ts", import.meta.url));

describe("real world: a real browser (Chromium, connect-web)", function () {
  this.timeout(60_000);
  let bundle: Bundle | undefined;
  let browser: Browser | undefined;
  let server: PageServer | undefined;
  let page: Page | undefined;

  before(async () => {
    bundle = await bundlePage(entry);
    browser = await launchChromium();
  });

  afterEach(async () => {
    await page?.close();
    page = undefined;
    await server?.close();
    server = undefined;
  });

  after(async () => {
    await browser?.close();
    await bundle?.remove();
  });

  const protocols: readonly { name: string; protocol: BrowserProtocol }[] = [
    { name: "gRPC-Web (createGrpcWebTransport)", protocol: "grpc-web" },
    { name: "Connect (createConnectTransport)", protocol: "connect" },
  ];

  for (const { name, protocol } of protocols) {
    it(`${name}: unary, server stream, a failure and an abort, exactly`, async () => {
      const registry = new Registry();
      const sm = new ServerMetrics({ registry, handlingTimeHistogram: true });
      server = await startPageServer(bundle!.script, [sm.interceptor]);
      page = await browser!.context.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(String(e)));

      await page.goto(server.url);
      await page.waitForFunction(() => typeof window.runCalls === "function");
      const results: BrowserResults = await page.evaluate((p) => window.runCalls(p), protocol);
      // Chromium does not always close an aborted HTTP/1.1 response at once:
      // when no read is pending it drains the body for up to 5 s
      // (net::HttpResponseBodyDrainer::kTimeoutInSeconds) before it closes
      // the socket, and only then does the server learn of the abort. So the
      // wait for the last call to be handled allows more than that.
      await quiesce(registry, 10_000);

      // What the browser saw.
      expect(pageErrors).to.deep.equal([]);
      expect(results).to.deep.equal({
        unary: ["one", "two"],
        stream: [0, 1, 2],
        failure: { code: 5, message: "failing with 5" },
        aborted: { received: 2, code: 1 },
      });

      // What the server recorded: every counter series, exactly.
      const s = await series(registry);
      expect(only(s, /_total\{/)).to.deep.equal(
        counters("server", [
          { type: "unary", method: "Ping", started: 2, received: 2, sent: 2, handled: { OK: 2 } },
          { type: "unary", method: "PingError", started: 1, received: 1, sent: 0, handled: { NotFound: 1 } },
          // One stream read to its end (3 messages), one aborted after 2.
          { type: "server_stream", method: "PingList", started: 2, received: 2, sent: 5, handled: { OK: 1, Canceled: 1 } },
        ]),
      );
      // The latency histogram saw each call once.
      expect(only(s, /_count\{/)).to.deep.equal({
        [key("grpc_server_handling_seconds_count", { grpc_method: "Ping", grpc_service: service, grpc_type: "unary" })]: 2,
        [key("grpc_server_handling_seconds_count", { grpc_method: "PingError", grpc_service: service, grpc_type: "unary" })]: 1,
        [key("grpc_server_handling_seconds_count", { grpc_method: "PingList", grpc_service: service, grpc_type: "server_stream" })]: 2,
      });
    });
  }
});
