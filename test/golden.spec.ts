import { expect } from "chai";
import { Code } from "@connectrpc/connect";
import { readFileSync, writeFileSync } from "node:fs";
import { PingService } from "../gen/connectrpc/prometheus/test/v1/ping_pb.js";
import { drain, outcome, requests, useFixture } from "./support/fixture.js";
import { protocols, quiesce } from "./support/harness.js";

const golden = new URL("golden/default-exposition.txt", import.meta.url).pathname;

/**
 * The exposition with what depends on timing masked: sums, and the buckets
 * below +Inf. Everything else (names, HELP, TYPE, labels, their order, counts)
 * is compared byte for byte.
 */
function masked(text: string): string {
  return text
    .split("\n")
    .map((line) =>
      line.includes("_sum{") || (line.includes("_bucket{") && !line.includes('le="+Inf"'))
        ? line.replace(/ [^ ]+$/, " <timing>")
        : line,
    )
    .join("\n");
}

describe("default exposition", () => {
  const f = useFixture({
    server: { handlingTimeHistogram: true },
    client: { handlingTimeHistogram: true, streamReceiveTimeHistogram: true, streamSendTimeHistogram: true },
  });

  it("is unchanged: byte for byte the committed golden file (UPDATE_GOLDEN=1 rewrites it)", async () => {
    f.serverMetrics.initialize(PingService);
    const c = f.client(protocols[0]);
    await c.ping({ value: "a" });
    expect(await outcome(() => c.pingError({ errorCodeReturned: Code.PermissionDenied }))).to.equal("PermissionDenied");
    expect(await drain(c.pingList({ responseCount: 2 }))).to.equal(2);
    await c.pingClientStream(requests({}, {}));
    expect(await drain(c.pingStream(requests({}, {}, {})))).to.equal(3);
    await quiesce(f.registry);
    const text = masked(await f.registry.metrics());
    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(golden, text);
    }
    expect(text).to.equal(readFileSync(golden, "utf8"));
  });
});
