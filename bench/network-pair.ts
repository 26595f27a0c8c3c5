// One network configuration: a server process and its client process, which
// stay up for the whole scenario and are measured on request.
import { Child } from "./child-process.js";
import type { ServerReady } from "./connect-server.js";
import type { LoadArg, LoadResult } from "./load.js";
import type { PeerVariant } from "./nice-server.js";
import type { Variant } from "./variants.js";

/** A pair is named by its variant: ours, or the nice-grpc peer's. */
export type PairName = Variant | PeerVariant;

/** One measurement: the client's load result and the server's CPU time. */
export interface Measurement extends LoadResult {
  readonly serverCpuUs: number;
}

/** A server process and its client process. */
export class Pair {
  private constructor(
    readonly name: PairName,
    private readonly server: Child<ServerReady>,
    private readonly client: Child,
  ) {}

  /** start starts the server, then a client connected to it. */
  static async start(name: PairName): Promise<Pair> {
    const peer = name === "nice-bare" || name === "nice-prometheus";
    const options = { timeoutMs: 420_000 };
    const server = await Child.start<ServerReady>(
      peer ? "./nice-server.ts" : "./connect-server.ts",
      { variant: name },
      options,
    );
    const client = await Child.start(
      peer ? "./nice-client.ts" : "./connect-client.ts",
      { variant: name, port: server.ready.port },
      options,
    );
    return new Pair(name, server, client);
  }

  /** measure runs one load on the client and reads the server's CPU time around it. */
  async measure(load: LoadArg): Promise<Measurement> {
    const cpu0 = await this.server.call<number>("cpu");
    const result = await this.client.call<LoadResult>("load", load);
    const cpu1 = await this.server.call<number>("cpu");
    return { ...result, serverCpuUs: cpu1 - cpu0 };
  }

  /** The handled totals that the server and the client recorded. */
  async handled(): Promise<[number, number]> {
    return [await this.server.call<number>("handled"), await this.client.call<number>("handled")];
  }

  /** stop ends both processes. */
  async stop(): Promise<void> {
    await Promise.all([this.client.stop(), this.server.stop()]);
  }
}
