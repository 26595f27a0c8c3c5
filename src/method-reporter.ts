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

/**
 * MethodReporter records the events of one method's calls into the bound
 * series of its Reporter. A failing recording is reported through the
 * Reporter's `fail` and never reaches the call.
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

  constructor(
    private readonly r: Reporter,
    private readonly labels: MethodLabels,
    /** The method's RPC kind. */
    readonly kind: MethodKind,
  ) {
    this.timed = r.handling !== undefined;
    this.timedRecv = r.recv !== undefined;
    this.timedSend = r.send !== undefined;
  }

  started(): void {
    try {
      this.r.started.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  msgReceived(): void {
    try {
      this.r.msgReceived.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  msgSent(): void {
    try {
      this.r.msgSent.inc(this.labels.base);
    } catch (e) {
      this.r.fail(e);
    }
  }

  /**
   * The call ended with `code` (0 = OK) after `seconds`, with the call's
   * exemplar labels if exemplars are on.
   */
  handled(code: number, seconds: number, exemplar?: Labels): void {
    const { r, labels } = this;
    const handled = labels.handled[code] ?? labels.handled[2];
    try {
      if (r.withExemplars) {
        r.handled.inc({ labels: handled, value: 1, exemplarLabels: exemplar } as never);
      } else {
        r.handled.inc(handled);
      }
    } catch (e) {
      r.fail(e);
    }
    if (r.handling === undefined) {
      return;
    }
    const histogramLabels = r.codeOnHistograms ? handled : labels.base;
    try {
      if (r.withExemplars) {
        r.handling.observe({ labels: histogramLabels, value: seconds, exemplarLabels: exemplar } as never);
      } else {
        r.handling.observe(histogramLabels, seconds);
      }
    } catch (e) {
      r.fail(e);
    }
  }

  recvSeconds(seconds: number): void {
    try {
      this.r.recv?.observe(this.labels.base, seconds);
    } catch (e) {
      this.r.fail(e);
    }
  }

  sendSeconds(seconds: number): void {
    try {
      this.r.send?.observe(this.labels.base, seconds);
    } catch (e) {
      this.r.fail(e);
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
}
