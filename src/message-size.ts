import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { HistogramData } from "./histogram-data.js";

/**
 * observeSize observes the size of a message, as its binary protobuf
 * encoding, in a size histogram that is on. Connect hands interceptors
 * message objects, not the bytes on the wire, so the message is encoded once
 * more to be measured. A message that cannot be encoded is reported to
 * `fail` and not observed.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export function observeSize(
  h: HistogramData | undefined,
  schema: DescMessage,
  message: unknown,
  fail: (error: unknown) => void,
): void {
  if (h === undefined) {
    return;
  }
  try {
    h.observe(toBinary(schema, message as MessageShape<DescMessage>).byteLength);
  } catch (e) {
    fail(e);
  }
}
