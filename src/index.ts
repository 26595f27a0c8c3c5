export { ServerMetrics } from "./server-metrics.js";
export { ClientMetrics } from "./client-metrics.js";
export type {
  ClientMetricsOptions,
  HistogramOption,
  MetricsOptions,
  ServerMetricsOptions,
} from "./options.js";
