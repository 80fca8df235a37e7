import * as common from "@grafana/grafana-foundation-sdk/common";
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatBuilder } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesBuilder } from "@grafana/grafana-foundation-sdk/timeseries";

/** Every query goes through the dashboard's datasource variable, so one JSON works in any Grafana. */
export const DATASOURCE = {
  type: "prometheus",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JavaScript template.
  uid: "${datasource}",
} as const satisfies common.DataSourceRef;

/**
 * Dashboards never name the job: the job variable lists the jobs that export zephyr_build_info (a metric only
 * Zephyr has), so whatever job label the ServiceMonitor is configured with shows up without editing here.
 */
export const ZEPHYR = 'job="$job",namespace=~"$namespace"';
export const ZEPHYR_INSTANCES = `${ZEPHYR},instance=~"$instance"`;
/** Probes, scrapes and unmatched paths, as excluded from the latency objective in alerts/zephyr.rules.yml. */
export const API_ROUTES = 'route!~"unmatched|/metrics|(/api)?/health.*"';
/** kube-state-metrics series for Zephyr's HPA, through the recording rule that links HPA to Zephyr's pods. */
export const ZEPHYR_HPA = 'zephyr:kube_hpa:info{namespace=~"$namespace"}';

/** Grafana's rate window for the panel's resolution: every rate() in the dashboards uses it. */
export const R = "$__rate_interval";

/** The settings every Zephyr dashboard shares (tags, crosshair, refresh, variables); each picks its time range. */
export function zephyrDashboard({
  title,
  uid,
  description,
  from,
}: {
  title: string;
  uid: string;
  description: string;
  from: string;
}): DashboardBuilder {
  const d = new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["zephyr"])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from, to: "now" })
    .timezone("browser");
  for (const v of variables()) d.withVariable(v);
  return d;
}

export function variables() {
  return [
    new DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"),
    new QueryVariableBuilder("job")
      .label("Job")
      .datasource(DATASOURCE)
      .query("label_values(zephyr_build_info, job)")
      .definition("label_values(zephyr_build_info, job)")
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc),
    new QueryVariableBuilder("namespace")
      .label("Namespace")
      .datasource(DATASOURCE)
      .query('label_values(zephyr_build_info{job="$job"}, namespace)')
      .definition('label_values(zephyr_build_info{job="$job"}, namespace)')
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue(".*"),
    new QueryVariableBuilder("instance")
      .label("Instance")
      .datasource(DATASOURCE)
      .query('label_values(zephyr_build_info{job="$job",namespace=~"$namespace"}, instance)')
      .definition('label_values(zephyr_build_info{job="$job",namespace=~"$namespace"}, instance)')
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue(".*"),
  ];
}

export function query(expr: string, legend: string) {
  return new DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend).range();
}

/** Threshold line at `value` (and none below), drawn on the graph. */
function thresholdAt(value: number, color: string) {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: "green" },
    { value, color },
  ]);
}

export function timeseries(
  title: string,
  description: string,
  unit: string,
  targets: DataqueryBuilder[],
  opts: { threshold?: number; min?: number; width?: number; stack?: boolean } = {},
) {
  const p = new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(opts.width ?? 12)
    .height(8)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(["lastNotNull", "max"]),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  if (opts.min !== undefined) p.min(opts.min);
  if (opts.stack) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (opts.threshold !== undefined) {
    p.thresholds(thresholdAt(opts.threshold, "red")).thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
    );
  }
  targets.forEach((t, i) => {
    p.withTarget(t.refId(String.fromCharCode(65 + i)));
  });
  return p;
}

export function stat(title: string, description: string, unit: string, target: DataqueryBuilder, width = 6) {
  return new StatBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .span(width)
    .height(4)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false))
    .withTarget(target.refId("A"));
}

/**
 * Busiest minus quietest instance. Both dashboards show it (overview next to the alert, scaling next to the
 * HPA); the 2000 threshold is UnbalancedLoad's, so the line and the alert agree.
 */
export function connectionImbalance(description: string) {
  return timeseries(
    "Connection imbalance (max - min)",
    description,
    "short",
    [
      query(
        `max by (namespace) (websocket_connections_current{${ZEPHYR}}) - min by (namespace) (websocket_connections_current{${ZEPHYR}})`,
        "{{namespace}}",
      ),
    ],
    { threshold: 2000, min: 0 },
  );
}
