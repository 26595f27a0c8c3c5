// CPU load: a worker thread that spins until it is stopped, so that the event
// loop of the calls under test runs late, as on a busy server.
import { Worker } from "node:worker_threads";

/** busy starts a spinning worker; the function it returns stops it. */
export function busy(): () => Promise<void> {
  const worker = new Worker("for (;;) {}", { eval: true });
  return async () => {
    await worker.terminate();
  };
}
