// Benchmark child processes: each scenario runs in its own Node process, so
// that the JIT state, the heap and the CPU time of one configuration never
// mix with another's. Children run TypeScript through tsx, talk to the parent
// over the IPC channel, and exit when the parent goes away.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A message from parent to child: run a command. */
interface Command {
  readonly id: number;
  readonly cmd: string;
  readonly arg: unknown;
}

/** A message from child to parent. */
type Reply =
  | { readonly ready: unknown }
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };

/** Options of a child process. */
export interface ChildOptions {
  /** Run with `--expose-gc`, so that the child can call `gc()`. */
  readonly exposeGc?: boolean;
  /** Extra Node flags, such as `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Kill the child if it is still running after this long. */
  readonly timeoutMs: number;
}

/**
 * Child is a running child process that answers commands.
 */
export class Child<Ready = unknown> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly exited: Promise<number>;

  private constructor(
    private readonly proc: ChildProcess,
    /** What the child sent when it became ready, e.g. its port. */
    readonly ready: Ready,
    exited: Promise<number>,
  ) {
    this.exited = exited;
    void exited.then((code) => {
      for (const p of this.pending.values()) {
        p.reject(new Error(`bench child exited with ${code}`));
      }
      this.pending.clear();
    });
    proc.on("message", (msg: Reply) => {
      if (!("id" in msg)) {
        return;
      }
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if ("error" in msg) {
        p?.reject(new Error(msg.error));
      } else {
        p?.resolve(msg.result);
      }
    });
  }

  /**
   * start forks `file` (a path relative to bench/) with a JSON argument and
   * resolves when it reports that it is ready.
   */
  static start<R>(file: string, arg: unknown, options: ChildOptions): Promise<Child<R>> {
    const flags = ["--import", "tsx", ...(options.nodeFlags ?? [])];
    if (options.exposeGc === true) {
      flags.push("--expose-gc");
    }
    const proc = fork(fileURLToPath(new URL(file, import.meta.url)), [JSON.stringify(arg)], {
      execArgv: flags,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs);
    timer.unref();
    const exited = new Promise<number>((resolve) => {
      proc.on("exit", (code, signal) => {
        clearTimeout(timer);
        resolve(code ?? (signal !== null ? 128 : 1));
      });
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new Error(`bench child ${file} exited with ${code} before it was ready`));
      void exited.then(onExit);
      proc.once("message", (msg: Reply) => {
        if ("ready" in msg) {
          resolve(new Child<R>(proc, msg.ready as R, exited));
        }
      });
    });
  }

  /** call runs a command in the child and resolves with its result. */
  call<T>(cmd: string, arg?: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const command: Command = { id, cmd, arg };
      this.proc.send(command);
    });
  }

  /** stop disconnects the child, which then exits, and waits for it. */
  async stop(): Promise<number> {
    if (this.proc.connected) {
      this.proc.disconnect();
    }
    return this.exited;
  }
}

/** A command handler in a child process. */
export type Handlers = Record<string, (arg: never) => unknown>;

/**
 * serve is the child's side: it reports `ready` to the parent, answers
 * commands with the handlers, and exits when the parent disconnects. A child
 * never outlives `maxLifetimeMs`, whatever happens to the parent.
 */
export function serve(ready: unknown, handlers: Handlers, maxLifetimeMs = 600_000): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    throw new Error("bench child: no IPC channel; start it with Child.start");
  }
  setTimeout(() => process.exit(3), maxLifetimeMs).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (msg: Command) => {
    const handler = handlers[msg.cmd];
    void (async () => {
      try {
        if (handler === undefined) {
          throw new Error(`unknown command ${msg.cmd}`);
        }
        const result = await handler(msg.arg as never);
        send({ id: msg.id, result });
      } catch (e) {
        send({ id: msg.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    })();
  });
  send({ ready });
}

/** childArg reads the JSON argument that Child.start passed. */
export function childArg<T>(): T {
  return JSON.parse(process.argv[2] ?? "null") as T;
}
