// Source of values.schema.json, kept as code so the repeated shapes stay consistent.
// `node chart/test/schema-gen.mjs` rewrites the file; `--check` exits 1 when the committed file is stale.
import { readFileSync, writeFileSync } from "node:fs";

const str = (extra = {}) => ({ type: "string", ...extra });
const int = (minimum, maximum, extra = {}) => ({
  type: "integer",
  minimum,
  ...(maximum === undefined ? {} : { maximum }),
  ...extra,
});
const bool = () => ({ type: "boolean" });
const obj = (properties, extra = {}) => ({
  type: "object",
  additionalProperties: false,
  properties,
  ...extra,
});
const map = (valueType = { type: "string" }) => ({ type: "object", additionalProperties: valueType });
const arr = (items = {}) => ({ type: "array", items });
const k8sObj = () => ({ type: "object" }); // Kubernetes structures validated by the API server (and kubernetes-validate in CI)
const intOrPercent = () => ({ anyOf: [int(0), { type: "string", pattern: "^[0-9]+%$" }] });
const port = () => int(1, 65535);
// An HPA Pods metric: its custom-metrics name and the per-pod average it aims at (a Kubernetes quantity).
const podsMetric = () =>
  obj({
    enabled: bool(),
    metricName: str({ minLength: 1 }),
    averageValue: { type: ["string", "integer"], pattern: "^[0-9]+(\\.[0-9]+)?[kMG]?$" },
  });
// The ServiceMonitor CRD's duration pattern (it also matches "", hence minLength where a value is required).
const promDuration =
  "(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)";
const labelKey =
  "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$";

const schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "zephyr chart values",
  ...obj({
    nameOverride: str(),
    fullnameOverride: str({ maxLength: 63 }),
    commonLabels: map(),
    commonAnnotations: map(),
    image: obj(
      {
        repository: str({ minLength: 1 }),
        tag: str(),
        digest: str({ pattern: "^$|^sha256:[a-f0-9]{64}$" }),
        pullPolicy: str({ enum: ["Always", "IfNotPresent", "Never"] }),
      },
      { required: ["repository"] },
    ),
    imagePullSecrets: arr(obj({ name: str({ minLength: 1 }) }, { required: ["name"] })),
    config: obj({
      port: port(),
      metricsPort: int(0, 65535),
      logLevel: str({ enum: ["fatal", "error", "warn", "info", "debug", "trace", "silent"] }),
      accessLog: str({ enum: ["all", "errors", "off"] }),
      corsOrigins: arr(str({ minLength: 1 })),
      trustProxyHops: int(0, 10),
      participantCap: int(1, 10000000),
      retentionDays: { type: "number", exclusiveMinimum: 0, maximum: 36500 },
      bodyLimitBytes: int(256, 1048576),
      rateLimit: obj({
        windowMs: int(1000, 3600000),
        pollCreate: int(1, 1000000),
        join: int(1, 1000000),
        joinPolls: int(1, 1000000),
        vote: int(1, 1000000),
        voteWindowMs: int(1000, 3600000),
        roomMiss: int(1, 1000000),
      }),
      socket: obj({
        transports: {
          type: "array",
          minItems: 1,
          uniqueItems: true,
          items: str({ enum: ["polling", "websocket"] }),
        },
        pingIntervalMs: int(1000, 600000),
        pingTimeoutMs: int(1000, 600000),
        maxPayloadBytes: int(1024, 1048576),
      }),
      extraEnv: {
        type: "object",
        propertyNames: { pattern: "^[A-Z_][A-Z0-9_]*$" },
        additionalProperties: { type: ["string", "number", "boolean"] },
      },
    }),
    database: obj({
      host: str(),
      port: port(),
      user: str({ minLength: 1 }),
      name: str({ minLength: 1 }),
      ssl: bool(),
      poolSize: int(1, 500),
      statementTimeoutMs: int(100, 600000),
      connectTimeoutMs: int(100, 600000),
      startupRetryMs: int(0, 3600000),
    }),
    redis: obj({
      host: str(),
      port: port(),
      tls: bool(),
      // The app's REDIS_CLUSTER_NODES rule (app/src/config/settings-infrastructure.ts), one node per entry.
      clusterNodes: {
        ...arr(str({ pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]+):[0-9]{1,5}$" })),
        uniqueItems: true,
      },
    }),
    secrets: obj({
      databaseUrl: str({ pattern: "^$|^postgres(ql)?://" }),
      dbPassword: str(),
      redisUrl: str({ pattern: "^$|^rediss?://" }),
      redisPassword: str(),
    }),
    existingSecret: obj({
      name: str(),
      keys: obj({ databaseUrl: str(), dbPassword: str(), redisUrl: str(), redisPassword: str() }),
    }),
    migrations: obj({
      mode: str({ enum: ["job", "startup"] }),
      backoffLimit: int(0, 20),
      activeDeadlineSeconds: int(10),
      resources: k8sObj(),
    }),
    replicaCount: int(0),
    revisionHistoryLimit: int(0),
    updateStrategy: obj({ maxSurge: intOrPercent(), maxUnavailable: intOrPercent() }),
    podAnnotations: map(),
    podLabels: map(),
    priorityClassName: str(),
    nodeSelector: map(),
    tolerations: arr(k8sObj()),
    affinity: k8sObj(),
    topologySpread: obj({
      enabled: bool(),
      maxSkew: int(1),
      whenUnsatisfiable: str({ enum: ["ScheduleAnyway", "DoNotSchedule"] }),
    }),
    resources: obj(
      { requests: map({ type: ["string", "number"] }), limits: map({ type: ["string", "number"] }) },
      { required: ["requests"] },
    ),
    podSecurityContext: k8sObj(),
    containerSecurityContext: k8sObj(),
    tmpSizeLimit: str({ pattern: "^[0-9]+(Ki|Mi|Gi)?$" }),
    probes: obj({
      startup: obj({ periodSeconds: int(1), failureThreshold: int(1) }),
      liveness: obj({ periodSeconds: int(1), timeoutSeconds: int(1), failureThreshold: int(1) }),
      readiness: obj({ periodSeconds: int(1), timeoutSeconds: int(1), failureThreshold: int(1) }),
    }),
    shutdown: obj({
      preStopSleepSeconds: int(0, 600),
      delayMs: int(0, 600000),
      drainWindowMs: int(0, 600000),
      timeoutMs: int(1000, 600000),
      graceMarginSeconds: int(0, 600),
      terminationGracePeriodSeconds: { type: ["integer", "null"], minimum: 1 },
    }),
    service: obj({
      type: str({ enum: ["ClusterIP", "NodePort", "LoadBalancer"] }),
      port: port(),
      metricsPort: port(),
      sessionAffinity: str({ enum: ["None", "ClientIP"] }),
      sessionAffinityTimeoutSeconds: int(1, 86400),
      annotations: map(),
    }),
    ingress: obj({
      enabled: bool(),
      className: str(),
      preset: str({ enum: ["nginx", "alb", "none"] }),
      websocketTimeoutSeconds: int(60, 86400),
      affinityCookieName: str({ pattern: "^[A-Za-z0-9_-]+$" }),
      affinityCookieMaxAgeSeconds: int(1),
      annotations: map(),
      hosts: arr(
        obj(
          {
            host: str({ minLength: 1 }),
            paths: arr(
              obj(
                {
                  path: str({ pattern: "^/" }),
                  pathType: str({ enum: ["Prefix", "Exact", "ImplementationSpecific"] }),
                },
                { required: ["path", "pathType"] },
              ),
            ),
          },
          { required: ["host", "paths"] },
        ),
      ),
      tls: arr(obj({ secretName: str(), hosts: arr(str()) })),
    }),
    httpRoute: obj({
      enabled: bool(),
      parentRefs: arr(k8sObj()),
      hostnames: arr(str({ minLength: 1 })),
      pathPrefix: str({ pattern: "^/" }),
      requestTimeout: str({ pattern: "^$|^([0-9]{1,5}(h|m|s|ms)){1,4}$" }),
      annotations: map(),
    }),
    autoscaling: obj({
      enabled: bool(),
      engine: str({ enum: ["hpa", "keda"] }),
      minReplicas: int(1),
      maxReplicas: int(1),
      targetCPUUtilizationPercentage: int(1, 100),
      websocketConnections: podsMetric(),
      requestRate: podsMetric(),
      behavior: k8sObj(),
      keda: obj({
        prometheusServerAddress: str({ pattern: "^$|^https?://[^\\s]+$" }),
        authenticationRef: obj({
          // A Kubernetes object name: KEDA looks it up as written.
          name: str({ pattern: "^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 }),
          kind: str({ enum: ["TriggerAuthentication", "ClusterTriggerAuthentication"] }),
        }),
        // The Prometheus scaler's documented modes; KEDA refuses an unknown one only when the trigger starts.
        authModes: str({ pattern: "^$|^(bearer|basic|tls|custom)(,(bearer|basic|tls|custom))*$" }),
      }),
    }),
    pdb: obj({ enabled: bool(), maxUnavailable: intOrPercent() }),
    networkPolicy: obj({
      enabled: bool(),
      ingressFrom: arr(k8sObj()),
      metricsFrom: arr(k8sObj()),
      databaseTo: arr(k8sObj()),
      redisTo: arr(k8sObj()),
      extraEgress: arr(k8sObj()),
    }),
    serviceAccount: obj({ create: bool(), name: str(), annotations: map() }),
    tests: obj({ enabled: bool() }),
    monitoring: obj({
      enabled: bool(),
      // Spliced into PromQL (job="…") and YAML as text: no quote, backslash, space or brace can get in.
      job: str({ pattern: "^[A-Za-z0-9_.:/-]+$" }),
      labels: map(),
      serviceMonitor: obj({
        enabled: bool(),
        interval: str({ minLength: 1, pattern: `^${promDuration}$` }),
        scrapeTimeout: str({ pattern: `^${promDuration}$` }),
        labels: map(),
      }),
      prometheusRule: obj({ enabled: bool(), labels: map() }),
      dashboards: obj({
        enabled: bool(),
        label: str({ pattern: labelKey }),
        labelValue: { type: ["string", "integer"], pattern: "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$" },
        folderAnnotation: str({ pattern: labelKey }),
        folder: str(),
      }),
    }),
    dev: obj({
      postgresql: obj({ enabled: bool(), image: str({ minLength: 1 }), password: str({ minLength: 1 }) }),
      redis: obj({ enabled: bool(), image: str({ minLength: 1 }) }),
    }),
  }),
};
const target = new URL("../values.schema.json", import.meta.url);
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== text) {
    console.error("chart/values.schema.json is stale: run node chart/test/schema-gen.mjs");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
