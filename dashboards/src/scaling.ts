import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  API_ROUTES,
  connectionImbalance,
  query,
  R,
  stat,
  timeseries,
  ZEPHYR,
  ZEPHYR_HPA,
  ZEPHYR_INSTANCES,
  zephyrDashboard,
} from "./common.js";

/** An HPA metric of kube-state-metrics, kept to Zephyr's autoscaler. */
const hpa = (metric: string) =>
  `max by (horizontalpodautoscaler) (${metric} and on (namespace, horizontalpodautoscaler) ${ZEPHYR_HPA})`;

/** How many metric names of Zephyr's autoscaler a kube-state-metrics HPA target metric lists. */
const hpaMetricCount = (metric: string) =>
  `count by (horizontalpodautoscaler) (count by (horizontalpodautoscaler, metric_name) (${metric} and on (namespace, horizontalpodautoscaler) ${ZEPHYR_HPA}))`;

export function scaling() {
  const d = zephyrDashboard({
    title: "Zephyr / Scaling",
    uid: "zephyr-scaling",
    description:
      "Autoscaling of Zephyr: replicas against the HPA's limits, and the per-pod connection load it scales on",
    from: "now-6h",
  });

  d.withRow(new RowBuilder("Replicas"))
    .withPanel(
      stat(
        "Current replicas",
        "Pods the HPA runs now.",
        "short",
        query(hpa("kube_horizontalpodautoscaler_status_current_replicas"), "{{horizontalpodautoscaler}}"),
      ),
    )
    .withPanel(
      stat(
        "Desired replicas",
        "Pods the HPA wants; above current means pods are starting (or cannot be scheduled).",
        "short",
        query(hpa("kube_horizontalpodautoscaler_status_desired_replicas"), "{{horizontalpodautoscaler}}"),
      ),
    )
    .withPanel(
      stat(
        "Max replicas",
        "The HPA's ceiling; ZephyrHpaAtMaxReplicas fires after 15 minutes at it.",
        "short",
        query(hpa("kube_horizontalpodautoscaler_spec_max_replicas"), "{{horizontalpodautoscaler}}"),
      ),
    )
    .withPanel(
      stat(
        "Instances up",
        "Zephyr scrape targets answering; should follow current replicas.",
        "short",
        query(`sum(up{${ZEPHYR}})`, "up"),
      ),
    )
    .withPanel(
      timeseries(
        "Replicas: current, desired, min, max",
        "HPA replica counts over time. Current pinned to max means the service cannot grow further.",
        "short",
        [
          query(hpa("kube_horizontalpodautoscaler_status_current_replicas"), "current"),
          query(hpa("kube_horizontalpodautoscaler_status_desired_replicas"), "desired"),
          query(hpa("kube_horizontalpodautoscaler_spec_min_replicas"), "min"),
          query(hpa("kube_horizontalpodautoscaler_spec_max_replicas"), "max"),
          query(`sum(up{${ZEPHYR}})`, "instances up"),
        ],
        { min: 0, width: 24 },
      ),
    )
    .withPanel(
      timeseries(
        "Autoscaler metrics read",
        "Metrics in the HPA's spec, those it read a current value for, and its ScalingActive condition (1 = true). Fewer read than configured: prometheus-adapter or metrics-server is not answering, the HPA does not scale down and scales up only on what it reads (ZephyrHpaMetricsUnavailable after 10 minutes).",
        "short",
        [
          query(hpaMetricCount("kube_horizontalpodautoscaler_spec_target_metric"), "configured"),
          query(hpaMetricCount("kube_horizontalpodautoscaler_status_target_metric"), "read"),
          query(
            hpa('kube_horizontalpodautoscaler_status_condition{condition="ScalingActive",status="true"}'),
            "ScalingActive",
          ),
        ],
        { min: 0, width: 24 },
      ),
    );

  d.withRow(new RowBuilder("Load per pod"))
    .withPanel(
      timeseries(
        "Connections per pod vs HPA target",
        "WebSocket connections of each pod, their average (what the HPA compares), and the HPA's target per pod for websocket_connections_current.",
        "short",
        [
          query(`sum by (pod) (websocket_connections_current{${ZEPHYR_INSTANCES}})`, "{{pod}}"),
          query(`avg(websocket_connections_current{${ZEPHYR}})`, "average per pod"),
          query(
            `max(kube_horizontalpodautoscaler_spec_target_metric{metric_name="websocket_connections_current"} and on (namespace, horizontalpodautoscaler) ${ZEPHYR_HPA})`,
            "HPA target",
          ),
        ],
        { min: 0, width: 24 },
      ),
    )
    .withPanel(
      connectionImbalance(
        "Busiest minus quietest pod. Jumps after a scale-up, because existing connections stay where they are.",
      ),
    )
    .withPanel(
      timeseries(
        "CPU per pod",
        "CPU time per second by pod (100 % = one core), the HPA's other metric.",
        "percentunit",
        [query(`sum by (pod) (rate(process_cpu_seconds_total{${ZEPHYR_INSTANCES}}[${R}]))`, "{{pod}}")],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Request rate per pod vs HPA target",
        "HTTP requests per second by pod without probes, scrapes and unknown paths (what prometheus-adapter serves as http_requests_per_second), their average (what the HPA compares), and the HPA's target per pod.",
        "reqps",
        [
          query(
            `sum by (pod) (rate(http_requests_total{${ZEPHYR_INSTANCES},${API_ROUTES}}[${R}]))`,
            "{{pod}}",
          ),
          query(
            `avg(sum by (pod) (rate(http_requests_total{${ZEPHYR},${API_ROUTES}}[${R}])))`,
            "average per pod",
          ),
          query(
            `max(kube_horizontalpodautoscaler_spec_target_metric{metric_name="http_requests_per_second"} and on (namespace, horizontalpodautoscaler) ${ZEPHYR_HPA})`,
            "HPA target",
          ),
        ],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Cross-instance room news received per pod",
        "Room news (results, status) each pod's Redis subscriptions delivered per second, from other pods and its own echoes, against what the fleet published. With per-room fan-out a pod hears only the rooms it has members of; the gap between the lines is what it no longer receives.",
        "short",
        [
          query(
            `sum by (pod) (rate(zephyr_relay_messages_received_total{${ZEPHYR_INSTANCES}}[${R}]))`,
            "{{pod}}",
          ),
          query(`sum(rate(zephyr_relay_messages_published_total{${ZEPHYR}}[${R}]))`, "published by all pods"),
        ],
        { min: 0 },
      ),
    )
    .withPanel(
      timeseries(
        "Container restarts",
        "Restarts of Zephyr's containers (kube-state-metrics); each drops all of that pod's connections.",
        "short",
        [
          query(
            `sum by (pod) (increase(kube_pod_container_status_restarts_total[${R}]) and on (namespace, pod) up{${ZEPHYR}})`,
            "{{pod}}",
          ),
        ],
        { min: 0 },
      ),
    );

  return d;
}
