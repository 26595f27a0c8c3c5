export { ServerMetrics } from "./server-metrics.js";
export { ClientMetrics } from "./client-metrics.js";
export type {
  ClientMetricsOptions,
  HistogramOption,
  MetricsOptions,
  MetricsRegistry,
  RequestLabelsOption,
  ServerMetricsOptions,
} from "./options.js";
export type { AnyRequest } from "./call-labels.js";
export type { FlavorName } from "./constants.js";
export { traceExemplar } from "./trace-exemplar.js";
