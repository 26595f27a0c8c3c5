import type { MethodKind } from "./constants.js";
import { initializeCodeOrder } from "./constants.js";
import type { Reporter } from "./reporter.js";

/** @private Internal code, does not follow semantic versioning. */
export type Labels = Record<string, string>;

/**
 * The label sets of one method (and one set of per-call label values), built
 * once.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface MethodLabels {
  readonly base: Labels;
  /** Indexed by code number: base plus the code label. */
  readonly handled: readonly Labels[];
}

/** A histogram child bound to one label set. */
type Observe = (seconds: number) => void;

/** Codes 0-16; anything else is recorded as Unknown (2). */
const codeCount = 17;

/**
 * MethodReporter records the events of one method's calls.
 *
 * The counters are plain numbers here, handed to prom-client by the
 * Reporter's `collect()` hooks whenever the registry is read (a scrape,
 * `registry.metrics()`, `getMetricsAsJSON()`, a cluster aggregation), so a
 * read always sees every event before it. This keeps prom-client's label
 * hashing off the per-call path. The histograms are observed at once, through
 * children bound to this method's labels. A recording that throws is
 * reported through the Reporter's `fail` and never reaches the call.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class MethodReporter {
  /** True when the handling-time histogram needs the call's duration. */
  readonly timed: boolean;
  /** True when per-message receive times are recorded (client only). */
  readonly timedRecv: boolean;
  /** True when per-message send times are recorded (client only). */
  readonly timedSend: boolean;

  private startedCount = 0;
  private receivedCount = 0;
  private sentCount = 0;
  private readonly handledCounts = new Array<number>(codeCount).fill(0);
  private readonly handlingByCode: (Observe | undefined)[] = [];
  private readonly observeHandling: Observe | undefined;
  private readonly observeRecv: Observe | undefined;
  private readonly observeSend: Observe | undefined;

  constructor(
    private readonly r: Reporter,
    private readonly labels: MethodLabels,
    /** The method's RPC kind. */
    readonly kind: MethodKind,
  ) {
    this.timed = r.handling !== undefined;
    this.timedRecv = r.recv !== undefined;
    this.timedSend = r.send !== undefined;
    this.observeHandling =
      r.withExemplars || r.codeOnHistograms ? undefined : r.handling?.labels(labels.base).observe;
    this.observeRecv = r.recv?.labels(labels.base).observe;
    this.observeSend = r.send?.labels(labels.base).observe;
  }

  started(): void {
    this.startedCount++;
  }

  msgReceived(): void {
    this.receivedCount++;
  }

  msgSent(): void {
    this.sentCount++;
  }

  /**
   * The call ended with `code` (0 = OK) after `seconds`, with the call's
   * exemplar labels if exemplars are on.
   */
  handled(code: number, seconds: number, exemplar?: Labels): void {
    const c = code >= 0 && code < codeCount ? code : 2;
    if (this.r.withExemplars) {
      this.handledWithExemplar(c, seconds, exemplar);
      return;
    }
    this.handledCounts[c]++;
    if (this.r.handling === undefined) {
      return;
    }
    try {
      (this.observeHandling ?? this.handlingOf(c))(seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  recvSeconds(seconds: number): void {
    try {
      this.observeRecv?.(seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  sendSeconds(seconds: number): void {
    try {
      this.observeSend?.(seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  /** Hands the counts gathered since the last read to prom-client. */
  flushStarted(): void {
    if (this.startedCount !== 0) {
      this.r.started.inc(this.labels.base, this.startedCount);
      this.startedCount = 0;
    }
  }

  flushReceived(): void {
    if (this.receivedCount !== 0) {
      this.r.msgReceived.inc(this.labels.base, this.receivedCount);
      this.receivedCount = 0;
    }
  }

  flushSent(): void {
    if (this.sentCount !== 0) {
      this.r.msgSent.inc(this.labels.base, this.sentCount);
      this.sentCount = 0;
    }
  }

  flushHandled(): void {
    const counts = this.handledCounts;
    for (let code = 0; code < codeCount; code++) {
      if (counts[code] !== 0) {
        this.r.handled.inc(this.labels.handled[code], counts[code]);
        counts[code] = 0;
      }
    }
  }

  /** Creates every series of this method at zero. */
  zero(): void {
    const { r, labels } = this;
    r.started.inc(labels.base, 0);
    r.msgReceived.inc(labels.base, 0);
    r.msgSent.inc(labels.base, 0);
    for (const code of initializeCodeOrder) {
      if (r.withExemplars) {
        r.handled.inc({ labels: labels.handled[code], value: 0 } as never);
      } else {
        r.handled.inc(labels.handled[code], 0);
      }
    }
    if (r.codeOnHistograms) {
      for (const code of initializeCodeOrder) r.handling?.zero(labels.handled[code]);
    } else {
      r.handling?.zero(labels.base);
    }
    r.recv?.zero(labels.base);
    r.send?.zero(labels.base);
  }

  /** The handling-time child of a code, with `codeLabelOnHistograms`. */
  private handlingOf(code: number): Observe {
    let observe = this.handlingByCode[code];
    if (observe === undefined) {
      observe = this.r.handling!.labels(this.labels.handled[code]).observe;
      this.handlingByCode[code] = observe;
    }
    return observe;
  }

  /**
   * With exemplars, `handled` and the handling time go to prom-client at once:
   * an exemplar belongs to one increment.
   */
  private handledWithExemplar(code: number, seconds: number, exemplar: Labels | undefined): void {
    const { r, labels } = this;
    const handled = labels.handled[code];
    try {
      r.handled.inc({ labels: handled, value: 1, exemplarLabels: exemplar } as never);
    } catch (e) {
      r.fail(e);
    }
    if (r.handling === undefined) {
      return;
    }
    try {
      r.handling.observe({
        labels: r.codeOnHistograms ? handled : labels.base,
        value: seconds,
        exemplarLabels: exemplar,
      } as never);
    } catch (e) {
      r.fail(e);
    }
  }
}
