import type { MethodKind } from "./constants.js";
import { HistogramData, type Exemplar } from "./histogram-data.js";

/** @private Internal code, does not follow semantic versioning. */
export type Labels = Record<string, string>;

/** Codes 0-16; anything else is recorded as Unknown (2). */
export const codeCount = 17;

/**
 * SeriesLabels are the label sets of one series: the base labels, built when
 * the series is created, and the base labels with each code, for `handled`
 * (and the handling-time histogram, with `codeLabelOnHistograms`), built the
 * first time a code appears. A read of the registry hands out the same
 * objects each time.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class SeriesLabels {
  private readonly byCode: (Labels | undefined)[] = [];
  private readonly histogramByCode: (Labels | undefined)[] = [];

  constructor(
    readonly base: Labels,
    /** Builds the labels of one code: the handled counter's, or the histogram's. */
    private readonly make: (code: number, histogram: boolean) => Labels,
  ) {}

  /** The labels of the `handled` series of a code. */
  handled(code: number): Labels {
    return (this.byCode[code] ??= this.make(code, false));
  }

  /** The labels of the handling-time series of a code, with `codeLabelOnHistograms`. */
  handlingByCode(code: number): Labels {
    return (this.histogramByCode[code] ??= this.make(code, true));
  }
}

/** Bits of `Series.zeroed`: counter series created by `initialize()`. */
export const zeroedStarted = 1;
export const zeroedReceived = 2;
export const zeroedSent = 4;

/**
 * The bucket bounds of each histogram that is on; undefined when it is off.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export interface HistogramBounds {
  readonly handling: Float64Array | undefined;
  readonly recv: Float64Array | undefined;
  readonly send: Float64Array | undefined;
  readonly size: Float64Array | undefined;
  /** The handling-time histogram has a code label. */
  readonly handlingByCode: boolean;
}

/**
 * Series is everything recorded for one set of label values: one method,
 * and one value of each per-call label. It holds plain numbers that the
 * metric families read when the registry is read, so recording a call costs
 * a few additions and no label hashing.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class Series {
  started = 0;
  received = 0;
  sent = 0;
  /** Indexed by code number. */
  readonly handled = new Float64Array(codeCount);
  /** The codes whose `handled` series exist, in the order they appeared. */
  handledOrder: number[] = [];
  /** Bits: the handled series of each code created by `initialize()`. */
  handledZeroed = 0;
  /** Bits `zeroed*`: counter series created by `initialize()`. */
  zeroed = 0;
  handledExemplars: (Exemplar | undefined)[] | undefined;

  /** Handling time; undefined when off or when it has a code label. */
  readonly handling: HistogramData | undefined;
  /** Handling time per code, with `codeLabelOnHistograms`. */
  readonly handlingByCode: (HistogramData | undefined)[] | undefined;
  /** The codes whose handling-time series exist, in the order they appeared. */
  handlingOrder: number[] = [];
  readonly recv: HistogramData | undefined;
  readonly send: HistogramData | undefined;
  readonly sizeReceived: HistogramData | undefined;
  readonly sizeSent: HistogramData | undefined;

  constructor(
    readonly labels: SeriesLabels,
    readonly kind: MethodKind,
    private readonly bounds: HistogramBounds,
  ) {
    const streaming = kind !== "unary";
    this.handling = bounds.handling && !bounds.handlingByCode ? new HistogramData(bounds.handling) : undefined;
    this.handlingByCode = bounds.handling && bounds.handlingByCode ? [] : undefined;
    // Go observes the per-message times of streams only.
    this.recv = streaming && bounds.recv ? new HistogramData(bounds.recv) : undefined;
    this.send = streaming && bounds.send ? new HistogramData(bounds.send) : undefined;
    this.sizeReceived = bounds.size && new HistogramData(bounds.size);
    this.sizeSent = bounds.size && new HistogramData(bounds.size);
  }

  /** True when the handling-time histogram needs each call's duration. */
  get timed(): boolean {
    return this.handling !== undefined || this.handlingByCode !== undefined;
  }

  /**
   * Records the end of a call: its code (0 = OK), how long it took (only
   * read when `timed`), and its exemplar labels, if any.
   */
  handledCall(code: number, seconds: number, exemplar: Labels | undefined): void {
    if (this.handled[code]++ === 0 && (this.handledZeroed & (1 << code)) === 0) {
      this.handledOrder.push(code);
    }
    if (exemplar !== undefined) {
      (this.handledExemplars ??= [])[code] = { labelSet: exemplar, value: 1, timestamp: Date.now() / 1000 };
    }
    const h = this.handlingByCode === undefined ? this.handling : this.handlingOf(code);
    if (h === undefined) {
      return;
    }
    if (exemplar === undefined) {
      h.observe(seconds);
    } else {
      h.observeWithExemplar(seconds, exemplar);
    }
  }

  /** The handling-time series of a code, with `codeLabelOnHistograms`. */
  handlingOf(code: number): HistogramData {
    const byCode = this.handlingByCode!;
    let h = byCode[code];
    if (h === undefined) {
      h = new HistogramData(this.bounds.handling!);
      byCode[code] = h;
      this.handlingOrder.push(code);
    }
    return h;
  }

  /**
   * Creates every series at zero that does not exist yet, `handled` for the
   * codes in `codes` order. Series that exist keep their values.
   */
  zero(codes: readonly number[]): void {
    this.zeroed = zeroedStarted | zeroedReceived | zeroedSent;
    for (const code of codes) {
      if (this.handled[code] === 0 && (this.handledZeroed & (1 << code)) === 0) {
        this.handledOrder.push(code);
      }
      this.handledZeroed |= 1 << code;
    }
    if (this.handlingByCode !== undefined) {
      for (const code of codes) this.handlingOf(code).zeroed = true;
    }
    for (const h of [this.handling, this.recv, this.send, this.sizeReceived, this.sizeSent]) {
      if (h !== undefined) h.zeroed = true;
    }
  }

  resetHandled(): void {
    this.handled.fill(0);
    this.handledOrder = [];
    this.handledZeroed = 0;
    this.handledExemplars = undefined;
  }

}
