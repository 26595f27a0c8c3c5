// The Connect implementation of the benchmark's EchoService: as little work
// per call and per message as possible, so that interceptor costs stand out.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  EchoService,
  type EchoRequest,
  type EchoResponseSchema,
} from "../gen/connectrpc/prometheus/bench/v1/echo_pb.js";

/** Echo fails with the code in `count` (1-16) when the text is this. */
export const failText = "fail";

/** echoRoutes registers EchoService on a Connect router. */
export function echoRoutes(router: ConnectRouter): void {
  router.service(EchoService, {
    echo(req: EchoRequest) {
      if (req.text === failText) {
        throw new ConnectError("echo asked to fail", req.count);
      }
      return { text: req.text, index: 0 };
    },
    async *echoStream(req: EchoRequest): AsyncGenerator<MessageInitShape<typeof EchoResponseSchema>> {
      for (let i = 0; i < req.count; i++) {
        yield { text: req.text, index: i };
      }
    },
  });
}
