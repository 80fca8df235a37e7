{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "zephyr.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "zephyr.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zephyr.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "zephyr.labels" -}}
helm.sh/chart: {{ include "zephyr.chart" . }}
{{ include "zephyr.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: zephyr
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "zephyr.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zephyr.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector of the app pods only: migrate Job, test and dev pods share name/instance but not this component. */}}
{{- define "zephyr.serverSelectorLabels" -}}
{{ include "zephyr.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "zephyr.annotations" -}}
{{- with .Values.commonAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "zephyr.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "zephyr.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "zephyr.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "zephyr.secretName" -}}
{{- if .Values.existingSecret.name }}
{{- .Values.existingSecret.name }}
{{- else }}
{{- include "zephyr.fullname" . }}
{{- end }}
{{- end }}

{{- define "zephyr.devPostgresName" -}}
{{- printf "%s-postgresql" (include "zephyr.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "zephyr.devRedisName" -}}
{{- printf "%s-redis" (include "zephyr.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Effective DB/Redis hosts: the dev-bundled services win when enabled. */}}
{{- define "zephyr.dbHost" -}}
{{- if .Values.dev.postgresql.enabled }}{{ include "zephyr.devPostgresName" . }}{{ else }}{{ .Values.database.host }}{{ end }}
{{- end }}

{{- define "zephyr.redisHost" -}}
{{- if .Values.dev.redis.enabled }}{{ include "zephyr.devRedisName" . }}{{ else }}{{ .Values.redis.host }}{{ end }}
{{- end }}

{{/*
Secret entries the chart manages (env name -> value), empty values left out so an unset key stays unset in the
pod (the app treats "" as unset anyway, but an absent key is clearer).
*/}}
{{- define "zephyr.secretData" -}}
{{- $d := dict }}
{{- with .Values.secrets.databaseUrl }}{{ $_ := set $d "DATABASE_URL" . }}{{ end }}
{{- with .Values.secrets.dbPassword }}{{ $_ := set $d "DB_PASSWORD" . }}{{ end }}
{{- with .Values.secrets.redisUrl }}{{ $_ := set $d "REDIS_URL" . }}{{ end }}
{{- with .Values.secrets.redisPassword }}{{ $_ := set $d "REDIS_PASSWORD" . }}{{ end }}
{{- if .Values.dev.postgresql.enabled }}{{ $_ := set $d "DB_PASSWORD" .Values.dev.postgresql.password }}{{ end }}
{{- toYaml $d }}
{{- end }}

{{/*
Every configuration conflict fails the render with a message naming the values to fix; called from the
Deployment, which every valid release renders.
*/}}
{{- define "zephyr.validate" -}}
{{- $s := .Values.secrets }}
{{- $inline := or $s.databaseUrl $s.dbPassword $s.redisUrl $s.redisPassword }}
{{- $dbHost := include "zephyr.dbHost" . }}
{{- $redisHost := include "zephyr.redisHost" . }}
{{- if and .Values.existingSecret.name $inline }}
{{- fail "zephyr: set either existingSecret.name or secrets.* values, not both (the chart would not know which Secret the pods read)" }}
{{- end }}
{{- if and .Values.existingSecret.name .Values.dev.postgresql.enabled }}
{{- fail "zephyr: dev.postgresql.enabled stores its password in the chart's Secret; unset existingSecret.name" }}
{{- end }}
{{- if and (not .Values.existingSecret.name) (not $s.databaseUrl) (not $dbHost) }}
{{- fail "zephyr: no PostgreSQL configured: set secrets.databaseUrl, or database.host (+ secrets.dbPassword), or existingSecret.name with a DATABASE_URL key, or dev.postgresql.enabled for a dev cluster" }}
{{- end }}
{{- if and $s.databaseUrl $dbHost }}
{{- fail "zephyr: set secrets.databaseUrl or database.host (or dev.postgresql.enabled), not both" }}
{{- end }}
{{- if and $s.redisUrl $redisHost }}
{{- fail "zephyr: set secrets.redisUrl or redis.host (or dev.redis.enabled), not both" }}
{{- end }}
{{- if and $s.databaseUrl (not (regexMatch "^postgres(ql)?://" $s.databaseUrl)) }}
{{- fail "zephyr: secrets.databaseUrl must start with postgres:// or postgresql://" }}
{{- end }}
{{- if and .Values.redis.clusterNodes (or $s.redisUrl $redisHost) }}
{{- fail "zephyr: redis.clusterNodes selects a Redis Cluster; unset redis.host, secrets.redisUrl and dev.redis.enabled (a single Redis)" }}
{{- end }}
{{- range .Values.redis.clusterNodes }}
{{- if not (regexMatch "^(\\[[0-9A-Fa-f:.]+\\]|[^\\s:\\[\\]]+):[0-9]{1,5}$" .) }}
{{- fail (printf "zephyr: redis.clusterNodes entry %q must be host:port" .) }}
{{- end }}
{{- end }}
{{- if and $s.redisUrl (not (regexMatch "^rediss?://" $s.redisUrl)) }}
{{- fail "zephyr: secrets.redisUrl must start with redis:// or rediss://" }}
{{- end }}
{{- if and .Values.dev.postgresql.enabled (eq .Values.migrations.mode "job") }}
{{- fail "zephyr: dev.postgresql.enabled needs migrations.mode=startup (a pre-install hook Job would run before the bundled database exists)" }}
{{- end }}
{{- if and .Values.existingSecret.name (eq .Values.migrations.mode "job") (not .Values.existingSecret.keys.databaseUrl) (not $dbHost) }}
{{- fail "zephyr: existingSecret.keys.databaseUrl is empty and database.host is unset: the pods would have no PostgreSQL" }}
{{- end }}
{{- $sd := .Values.shutdown }}
{{- if le (int $sd.timeoutMs) (add (int $sd.delayMs) (int $sd.drainWindowMs)) }}
{{- fail (printf "zephyr: shutdown.timeoutMs (%d) must exceed shutdown.delayMs + shutdown.drainWindowMs (%d): the app would hit its hard limit and exit 1 mid-drain" (int $sd.timeoutMs) (add (int $sd.delayMs) (int $sd.drainWindowMs))) }}
{{- end }}
{{- $ping := add (int .Values.config.socket.pingIntervalMs) (int .Values.config.socket.pingTimeoutMs) }}
{{- if and .Values.ingress.enabled (le (mul (int .Values.ingress.websocketTimeoutSeconds) 1000) $ping) }}
{{- fail (printf "zephyr: ingress.websocketTimeoutSeconds must exceed config.socket.pingIntervalMs + pingTimeoutMs (%d ms), or the proxy cuts idle WebSockets" $ping) }}
{{- end }}
{{- $grace := include "zephyr.terminationGracePeriodSeconds" . | int }}
{{- $min := include "zephyr.minGracePeriodSeconds" . | int }}
{{- if lt $grace $min }}
{{- fail (printf "zephyr: shutdown.terminationGracePeriodSeconds=%d is below preStop sleep + app shutdown timeout = %d s; pods would be SIGKILLed mid-drain" $grace $min) }}
{{- end }}
{{- if and .Values.httpRoute.enabled (not .Values.httpRoute.parentRefs) }}
{{- fail "zephyr: httpRoute.enabled needs at least one httpRoute.parentRefs entry (the Gateway to attach to)" }}
{{- end }}
{{- end }}

{{/*
Shortest grace period that never SIGKILLs a draining pod: the preStop sleep, then the app's hard limit, which
counts from SIGTERM and (checked in zephyr.validate) covers SHUTDOWN_DELAY_MS + DRAIN_WINDOW_MS.
*/}}
{{- define "zephyr.minGracePeriodSeconds" -}}
{{- $sd := .Values.shutdown }}
{{- add (int $sd.preStopSleepSeconds) (div (add (int $sd.timeoutMs) 999) 1000) }}
{{- end }}

{{- define "zephyr.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.shutdown.terminationGracePeriodSeconds }}
{{- add (include "zephyr.minGracePeriodSeconds" . | int) (int .Values.shutdown.graceMarginSeconds) }}
{{- else }}
{{- int .Values.shutdown.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Non-secret env shared by the ConfigMap and the migration Job (which cannot use the ConfigMap on first install). */}}
{{- define "zephyr.configEnv" -}}
{{- $c := .Values.config }}
{{- $d := dict
  "PORT" (toString $c.port)
  "HOST" "0.0.0.0"
  "METRICS_PORT" (toString $c.metricsPort)
  "LOG_LEVEL" $c.logLevel
  "ACCESS_LOG" $c.accessLog
  "CORS_ORIGINS" (join "," $c.corsOrigins)
  "TRUST_PROXY_HOPS" (toString $c.trustProxyHops)
  "POLL_PARTICIPANT_CAP" (toString $c.participantCap)
  "RETENTION_DAYS" (toString $c.retentionDays)
  "BODY_LIMIT_BYTES" (toString $c.bodyLimitBytes)
  "RATE_LIMIT_WINDOW_MS" (toString $c.rateLimit.windowMs)
  "RATE_LIMIT_POLL_CREATE" (toString $c.rateLimit.pollCreate)
  "RATE_LIMIT_JOIN" (toString $c.rateLimit.join)
  "RATE_LIMIT_JOIN_POLLS" (toString $c.rateLimit.joinPolls)
  "RATE_LIMIT_VOTE" (toString $c.rateLimit.vote)
  "RATE_LIMIT_VOTE_WINDOW_MS" (toString $c.rateLimit.voteWindowMs)
  "RATE_LIMIT_ROOM_MISS" (toString $c.rateLimit.roomMiss)
  "SOCKET_TRANSPORTS" (join "," $c.socket.transports)
  "SOCKET_PING_INTERVAL_MS" (toString $c.socket.pingIntervalMs)
  "SOCKET_PING_TIMEOUT_MS" (toString $c.socket.pingTimeoutMs)
  "SOCKET_MAX_PAYLOAD_BYTES" (toString $c.socket.maxPayloadBytes)
  "DRAIN_WINDOW_MS" (toString .Values.shutdown.drainWindowMs)
  "DB_PORT" (toString .Values.database.port)
  "DB_USER" .Values.database.user
  "DB_NAME" .Values.database.name
  "DB_POOL_SIZE" (toString .Values.database.poolSize)
  "DB_STATEMENT_TIMEOUT_MS" (toString .Values.database.statementTimeoutMs)
  "DB_CONNECT_TIMEOUT_MS" (toString .Values.database.connectTimeoutMs)
  "DB_STARTUP_RETRY_MS" (toString .Values.database.startupRetryMs)
  "MIGRATE_ON_START" (toString (eq .Values.migrations.mode "startup"))
  "REDIS_PORT" (toString .Values.redis.port)
  "SHUTDOWN_DELAY_MS" (toString .Values.shutdown.delayMs)
  "SHUTDOWN_TIMEOUT_MS" (toString .Values.shutdown.timeoutMs)
}}
{{- /* DB_SSL/REDIS_TLS only go with a host: a URL carries its own sslmode / rediss:// (and the app would apply DB_SSL to a URL too). */}}
{{- with include "zephyr.dbHost" . }}
{{- $_ := set $d "DB_HOST" . }}
{{- $_ := set $d "DB_SSL" (toString (and $.Values.database.ssl (not $.Values.dev.postgresql.enabled))) }}
{{- end }}
{{- with include "zephyr.redisHost" . }}
{{- $_ := set $d "REDIS_HOST" . }}
{{- $_ := set $d "REDIS_TLS" (toString (and $.Values.redis.tls (not $.Values.dev.redis.enabled))) }}
{{- end }}
{{- /* Behind ClientIP affinity a shed client comes straight back to its pod: rebalancing would only cost reconnects. */}}
{{- if eq .Values.service.sessionAffinity "ClientIP" }}
{{- $_ := set $d "REBALANCE_ENABLED" "false" }}
{{- end }}
{{- with .Values.redis.clusterNodes }}
{{- $_ := set $d "REDIS_CLUSTER_NODES" (join "," .) }}
{{- $_ := set $d "REDIS_TLS" (toString $.Values.redis.tls) }}
{{- end }}
{{- range $k, $v := $c.extraEnv }}{{ $_ := set $d $k (toString $v) }}{{ end }}
{{- toYaml $d }}
{{- end }}

{{/*
Secret-backed env as secretKeyRef entries: values never appear in the pod spec. $secretName selects the
Secret (the release Secret for pods, the hook copy for the migration Job).
*/}}
{{- define "zephyr.secretEnv" -}}
{{- $root := index . 0 }}
{{- $secretName := index . 1 }}
{{- if $root.Values.existingSecret.name }}
{{- $k := $root.Values.existingSecret.keys }}
{{- $dbHost := include "zephyr.dbHost" $root }}
{{- with $k.databaseUrl }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ . }}
      {{- /* Without DATABASE_URL and DB_HOST the app would silently fall back to its in-memory database. */}}
      optional: {{ ternary "true" "false" (ne $dbHost "") }}
{{- end }}
{{- range $env, $key := dict "DB_PASSWORD" $k.dbPassword "REDIS_URL" $k.redisUrl "REDIS_PASSWORD" $k.redisPassword }}
{{- if $key }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- end }}
{{- else }}
{{- range $env, $_ := (include "zephyr.secretData" $root | fromYaml) }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $secretName }}
      key: {{ $env }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zephyr.metricsTargetPort" -}}
{{- if gt (int .Values.config.metricsPort) 0 }}metrics{{ else }}http{{ end }}
{{- end }}

{{/*
Labels of the ServiceMonitor and PrometheusRule: the standard labels, then monitoring.labels (one place for the
`release` label kube-prometheus-stack selects both by), then the resource's own extra labels. Called with
(list $ extraLabels).
*/}}
{{- define "zephyr.monitoringLabels" -}}
{{- $root := index . 0 }}
{{- $labels := include "zephyr.labels" $root | fromYaml }}
{{- toYaml (mergeOverwrite $labels (deepCopy $root.Values.monitoring.labels) (deepCopy (index . 1))) }}
{{- end }}

{{/*
spec.groups of the PrometheusRule: every chart/files/alerts/*.rules.yml (copies of alerts/, `npm run chart:sync`),
with the rule files' one job selector, the literal text job="zephyr", replaced by monitoring.job. Replaced as
text and never passed through tpl: the annotations' {{ $labels.x }} are Prometheus templates, not Helm's.
*/}}
{{- define "zephyr.ruleGroups" -}}
{{- $files := .Files.Glob "files/alerts/*.rules.yml" }}
{{- if not $files }}
{{- fail "zephyr: chart/files/alerts/ holds no *.rules.yml: run `npm run chart:sync` before rendering or packaging the chart" }}
{{- end }}
{{- $job := printf "job=\"%s\"" .Values.monitoring.job }}
{{- $groups := list }}
{{- range $path, $bytes := $files }}
{{- $doc := toString $bytes | replace "job=\"zephyr\"" $job | fromYaml }}
{{- if hasKey $doc "Error" }}
{{- fail (printf "zephyr: %s is not valid YAML after setting %s: %s" $path $job $doc.Error) }}
{{- end }}
{{- if not $doc.groups }}
{{- fail (printf "zephyr: %s has no rule groups" $path) }}
{{- end }}
{{- $groups = concat $groups $doc.groups }}
{{- end }}
{{- toYaml $groups }}
{{- end }}

{{/*
A target of the values (5000, "5k", "1.5k": a Kubernetes quantity, as the HPA takes it) as the plain number a KEDA
threshold must be (KEDA parses it as a float), so one setting serves both engines.
*/}}
{{- define "zephyr.kedaThreshold" -}}
{{- $quantity := toString . }}
{{- $unit := regexFind "[kMG]$" $quantity }}
{{- if $unit }}
{{- round (mulf (trimSuffix $unit $quantity | float64) (get (dict "k" 1e3 "M" 1e6 "G" 1e9) $unit)) 6 }}
{{- else }}
{{- $quantity }}
{{- end }}
{{- end }}

{{/*
One Prometheus trigger of the ScaledObject: dict with name, query, averageValue (the per-pod target), keda
(.Values.autoscaling.keda) and emptyIsError (an empty query result is an error rather than KEDA's default of 0).
authModes belongs in the trigger's metadata, the reference next to it.
*/}}
{{- define "zephyr.kedaPrometheusTrigger" -}}
- type: prometheus
  name: {{ .name }}
  metricType: AverageValue
  metadata:
    serverAddress: {{ .keda.prometheusServerAddress | quote }}
    query: {{ .query | quote }}
    threshold: {{ include "zephyr.kedaThreshold" .averageValue | quote }}
    {{- if .emptyIsError }}
    ignoreNullValues: "false"
    {{- end }}
    {{- with .keda.authModes }}
    authModes: {{ . | quote }}
    {{- end }}
  {{- with .keda.authenticationRef }}
  {{- if .name }}
  authenticationRef:
    name: {{ .name }}
    kind: {{ .kind }}
  {{- end }}
  {{- end }}
{{- end }}
