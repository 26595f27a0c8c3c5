// The Grafana dashboard of dashboards/grpc.json, as code: scripts/grpc-monitoring.mjs
// writes it. Every query selects the metrics through the `metric_prefix`
// variable, so that one dashboard serves metrics with a namespace and
// subsystem (`shop_api_grpc_server_started_total`) as well as without.

/** Codes that point at the server, as in alerts/grpc.recording.yml. */
export const serverSideCodes = "Unknown|DeadlineExceeded|Unimplemented|Internal|Unavailable|DataLoss";

const ds = { type: "prometheus", uid: "${datasource}" };
const P = "${metric_prefix}";
/** The label matchers of the dashboard's variables. */
const F = 'job=~"$job",instance=~"$instance",grpc_service=~"$grpc_service",grpc_method=~"$grpc_method"';
const rate = (metric, extra = "") => `rate(${P}${metric}{${F}${extra}}[$__rate_interval])`;
/** A series of alerts/grpc.recording.yml, with the prefix in its metric part. */
const recorded = (level, metric, op, extra = "") => `${level}:${P}${metric}:${op}{${F}${extra}}`;
const serverSide = `,grpc_code=~"${serverSideCodes}"`;

function timeseries(title, description, unit, targets, gridPos) {
  return {
    type: "timeseries",
    title,
    description,
    datasource: ds,
    gridPos,
    fieldConfig: {
      defaults: {
        unit,
        min: 0,
        custom: { drawStyle: "line", lineWidth: 1, fillOpacity: 10, showPoints: "never", spanNulls: false },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: "list", placement: "bottom", showLegend: true },
      tooltip: { mode: "multi", sort: "desc" },
    },
    targets: targets.map(([expr, legendFormat], i) => ({
      datasource: ds,
      expr,
      legendFormat,
      range: true,
      refId: String.fromCharCode(65 + i),
    })),
  };
}

function availability(title, description, expr, gridPos) {
  return {
    type: "stat",
    title,
    description,
    datasource: ds,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: "percentunit",
        decimals: 3,
        thresholds: {
          mode: "absolute",
          steps: [
            { color: "red", value: null },
            { color: "orange", value: 0.99 },
            { color: "green", value: 0.999 },
          ],
        },
      },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      colorMode: "value",
      graphMode: "none",
      justifyMode: "auto",
      orientation: "auto",
      textMode: "value_and_name",
    },
    targets: [{ datasource: ds, expr, legendFormat: "{{grpc_service}}", instant: true, range: false, refId: "A" }],
  };
}

function heatmap(title, description, expr, gridPos) {
  return {
    type: "heatmap",
    title,
    description,
    datasource: ds,
    gridPos,
    fieldConfig: { defaults: {}, overrides: [] },
    options: {
      calculate: false,
      cellGap: 1,
      color: { mode: "scheme", scheme: "Oranges", steps: 64, exponent: 0.5, fill: "dark-orange", reverse: false },
      yAxis: { axisPlacement: "left", unit: "s" },
      rowsFrame: { layout: "auto" },
      tooltip: { show: true, yHistogram: false },
      legend: { show: true },
      exemplars: { color: "rgba(255,0,255,0.7)" },
    },
    targets: [{ datasource: ds, expr, format: "heatmap", legendFormat: "{{le}}", range: true, refId: "A" }],
  };
}

const row = (title, y) => ({ type: "row", title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
const at = (x, y, w, h = 8) => ({ h, w, x, y });

/** The quantile targets of a latency panel, grouped `by`. */
function quantiles(bucketRate, by, legend) {
  return [0.5, 0.9, 0.99].map((q) => [
    `histogram_quantile(${q}, sum by (${by}, le) (${bucketRate}))`,
    `${legend} p${Math.round(q * 100)}`,
  ]);
}

/** The server row: the services this job serves. */
function serverPanels(y) {
  const handled = recorded("instance_grpc_method_grpc_code", "grpc_server_handled", "rate5m");
  const handledErr = recorded("instance_grpc_method_grpc_code", "grpc_server_handled", "rate5m", serverSide);
  const buckets = recorded("instance_grpc_method_le", "grpc_server_handling_seconds_bucket", "rate5m", ',grpc_type="unary"');
  const by = "grpc_service, grpc_method";
  const perMethod = "{{grpc_service}}/{{grpc_method}}";
  const perStream = (counter, types) =>
    `sum by (${by}) (${rate(counter, `,grpc_type=~"${types}"`)})\n  /\nsum by (${by}) (${rate("grpc_server_handled_total", `,grpc_type=~"${types}"`)})`;
  return [
    row("Server", y),
    timeseries(
      "Server: request rate",
      "Calls per second that the server received, by service and method (grpc_server_started_total).",
      "reqps",
      [[`sum by (${by}) (${rate("grpc_server_started_total")})`, perMethod]],
      at(0, y + 1, 8),
    ),
    timeseries(
      "Server: error ratio (%)",
      `Percentage of the calls finished over 5 minutes that failed with a server-side code (${serverSideCodes.replaceAll("|", ", ")}), by service and method. The denominator is handled calls. Reads the recording rules of alerts/grpc.recording.yml.`,
      "percent",
      [[`100 * sum by (${by}) (${handledErr})\n  /\nsum by (${by}) (${handled})`, perMethod]],
      at(8, y + 1, 8),
    ),
    availability(
      "Server: availability",
      "Share of the calls finished over the dashboard's time range that did not fail with a server-side code, by service.",
      `1 - (\n  sum by (grpc_service) (increase(${P}grpc_server_handled_total{${F}${serverSide}}[$__range]))\n    /\n  sum by (grpc_service) (increase(${P}grpc_server_handled_total{${F}}[$__range]))\n)`,
      at(16, y + 1, 8),
    ),
    timeseries(
      "Server: latency p50, p90, p99",
      "Quantiles of the time unary calls took over 5 minutes, by method (grpc_server_handling_seconds). Needs handlingTimeHistogram and the recording rules of alerts/grpc.recording.yml; interpolated inside buckets.",
      "s",
      quantiles(buckets, by, perMethod),
      at(0, y + 9, 12),
    ),
    heatmap(
      "Server: latency heatmap",
      "Unary calls per second in each handling-time bucket (grpc_server_handling_seconds). Needs handlingTimeHistogram.",
      `sum by (le) (${rate("grpc_server_handling_seconds_bucket", ',grpc_type="unary"')})`,
      at(12, y + 9, 12),
    ),
    timeseries(
      "Server: errors by code",
      "Calls per second that the server finished with a code other than OK, by code (grpc_server_handled_total).",
      "reqps",
      [[`sum by (grpc_code) (${rate("grpc_server_handled_total", ',grpc_code!="OK"')})`, "{{grpc_code}}"]],
      at(0, y + 17, 8),
    ),
    timeseries(
      "Server: in flight (started − handled)",
      "Calls started and not yet finished, by method: grpc_server_started_total minus grpc_server_handled_total. A line that keeps rising means calls that never finish.",
      "none",
      [[`sum by (${by}) (${P}grpc_server_started_total{${F}})\n  -\nsum by (${by}) (${P}grpc_server_handled_total{${F}})`, perMethod]],
      at(8, y + 17, 8),
    ),
    timeseries(
      "Server: messages per stream",
      "Average messages per streaming call, by method: messages sent or received over calls finished.",
      "none",
      [
        [perStream("grpc_server_msg_sent_total", "server_stream|bidi_stream"), `${perMethod} sent`],
        [perStream("grpc_server_msg_received_total", "client_stream|bidi_stream"), `${perMethod} received`],
      ],
      at(16, y + 17, 8),
    ),
  ];
}

/** The client row: the services this job calls (its dependencies). */
function clientPanels(y) {
  const handled = recorded("instance_grpc_method_grpc_code", "grpc_client_handled", "rate5m");
  const handledErr = recorded("instance_grpc_method_grpc_code", "grpc_client_handled", "rate5m", serverSide);
  const by = "grpc_service, grpc_method";
  const perMethod = "{{grpc_service}}/{{grpc_method}}";
  const perStream = (counter, types) =>
    `sum by (${by}) (${rate(counter, `,grpc_type=~"${types}"`)})\n  /\nsum by (${by}) (${rate("grpc_client_handled_total", `,grpc_type=~"${types}"`)})`;
  return [
    row("Client: the services this job calls", y),
    timeseries(
      "Client: request rate",
      "Calls per second that the client made, by called service (grpc_client_started_total).",
      "reqps",
      [[`sum by (grpc_service) (${rate("grpc_client_started_total")})`, "{{grpc_service}}"]],
      at(0, y + 1, 8),
    ),
    timeseries(
      "Client: error ratio (%)",
      `Percentage of the calls finished over 5 minutes that failed with a server-side code (${serverSideCodes.replaceAll("|", ", ")}), as the client saw them, by called service. The denominator is handled calls. Reads the recording rules of alerts/grpc.recording.yml.`,
      "percent",
      [[`100 * sum by (grpc_service) (${handledErr})\n  /\nsum by (grpc_service) (${handled})`, "{{grpc_service}}"]],
      at(8, y + 1, 8),
    ),
    timeseries(
      "Client: errors by code",
      "Calls per second that the client finished with a code other than OK, by called service and code (grpc_client_handled_total).",
      "reqps",
      [[`sum by (grpc_service, grpc_code) (${rate("grpc_client_handled_total", ',grpc_code!="OK"')})`, "{{grpc_service}} {{grpc_code}}"]],
      at(16, y + 1, 8),
    ),
    timeseries(
      "Client: latency p50, p90, p99",
      "Quantiles of the time unary calls took, by called service (grpc_client_handling_seconds). Needs handlingTimeHistogram; interpolated inside buckets.",
      "s",
      quantiles(rate("grpc_client_handling_seconds_bucket", ',grpc_type="unary"'), "grpc_service", "{{grpc_service}}"),
      at(0, y + 9, 12),
    ),
    timeseries(
      "Client: in flight (started − handled)",
      "Calls started and not yet finished, by method: grpc_client_started_total minus grpc_client_handled_total.",
      "none",
      [[`sum by (${by}) (${P}grpc_client_started_total{${F}})\n  -\nsum by (${by}) (${P}grpc_client_handled_total{${F}})`, perMethod]],
      at(12, y + 9, 6),
    ),
    timeseries(
      "Client: messages per stream",
      "Average messages per streaming call, by method: messages sent or received over calls finished.",
      "none",
      [
        [perStream("grpc_client_msg_sent_total", "client_stream|bidi_stream"), `${perMethod} sent`],
        [perStream("grpc_client_msg_received_total", "server_stream|bidi_stream"), `${perMethod} received`],
      ],
      at(18, y + 9, 6),
    ),
  ];
}

/** A query variable over the labels of the started counters of both sides. */
function labelVariable(name, label, matchers) {
  const query = `label_values({__name__=~"${P}grpc_(server|client)_started_total"${matchers}}, ${name})`;
  return {
    name,
    label,
    type: "query",
    datasource: ds,
    definition: query,
    query,
    current: {},
    hide: 0,
    includeAll: true,
    allValue: ".+",
    multi: true,
    options: [],
    refresh: 2,
    regex: "",
    skipUrlSync: false,
    sort: 1,
  };
}

/**
 * dashboard builds the dashboard. `prefix` is the default of the
 * `metric_prefix` variable: `namespace_subsystem_`, or "" for none.
 */
export function dashboard(prefix = "") {
  const panels = [...serverPanels(0), ...clientPanels(25)].map((p, i) => ({ id: i + 1, ...p }));
  const suffix = prefix ? ` (${prefix.replace(/_$/, "")})` : "";
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard",
        },
      ],
    },
    description:
      "gRPC server and client metrics of connectrpc-prometheus, with go-grpc-prometheus names (not the legacy ones). The error-ratio and server latency panels read the recording rules of alerts/grpc.recording.yml; the latency panels need handlingTimeHistogram. Set 'Metric prefix' to namespace_subsystem_ if the metrics have one.",
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links: [],
    liveNow: false,
    panels,
    refresh: "30s",
    schemaVersion: 38,
    tags: ["grpc", "connectrpc", "prometheus"],
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
          includeAll: false,
          multi: false,
          options: [],
          refresh: 1,
          regex: "",
          skipUrlSync: false,
        },
        {
          name: "metric_prefix",
          label: "Metric prefix",
          description: "namespace_subsystem_ of the metric names, as set with the namespace and subsystem options; empty for none.",
          type: "textbox",
          query: prefix,
          current: { text: prefix, value: prefix },
          options: [{ selected: true, text: prefix, value: prefix }],
          hide: 0,
          skipUrlSync: false,
        },
        labelVariable("job", "Job", ""),
        labelVariable("instance", "Instance", ',job=~"$job"'),
        labelVariable("grpc_service", "Service", ',job=~"$job",instance=~"$instance"'),
        labelVariable("grpc_method", "Method", ',job=~"$job",instance=~"$instance",grpc_service=~"$grpc_service"'),
      ],
    },
    time: { from: "now-1h", to: "now" },
    timepicker: {},
    timezone: "",
    title: `gRPC (connectrpc-prometheus)${suffix}`,
    uid: `connectrpc-prometheus-grpc${prefix ? "-" + prefix.replace(/_$/, "").replaceAll("_", "-") : ""}`.slice(0, 40),
    version: 1,
    weekStart: "",
  };
}
