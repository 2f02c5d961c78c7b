{{/* Names and labels. */}}
{{- define "tradeport.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tradeport.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tradeport.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "tradeport.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "tradeport.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tradeport.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tradeport.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The profile file of the ConfigMap (and of the migrate hook's copy of it). */}}
{{- define "tradeport.configData" -}}
{{- if .Values.config.profileToml -}}
{{- .Values.config.profileToml | trim -}}
{{- else if eq .Values.config.profile "prod" -}}
{{- .Files.Get "files/prod.toml" | trim -}}
{{- else -}}
{{- fail (printf "config.profile is %s: set config.profileToml to that profile's file (the chart ships only prod.toml)" .Values.config.profile) -}}
{{- end -}}
{{- end -}}

{{/* Environment shared by web, worker and migrate containers. */}}
{{- define "tradeport.env" -}}
- name: TRADEPORT_PROFILE
  value: {{ .Values.config.profile | quote }}
- name: TRADEPORT_CONFIG_DIR
  value: /etc/tradeport
- name: TRADEPORT_BASE_DOMAIN
  value: {{ required "baseDomain is required" .Values.baseDomain | quote }}
- name: TRADEPORT__SERVER__MEDIA_DIR
  value: {{ printf "%s/media" .Values.persistence.mountPath | quote }}
- name: TRADEPORT__EXCHANGE__DIR
  value: {{ printf "%s/exchange" .Values.persistence.mountPath | quote }}
- name: TRADEPORT__DOCUMENTS__EDO_DIR
  value: {{ printf "%s/edo" .Values.persistence.mountPath | quote }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "postgresql.existingSecret is required" .Values.postgresql.existingSecret | quote }}
      key: {{ .Values.postgresql.urlKey | quote }}
- name: TRADEPORT_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ required "jwt.existingSecret is required" .Values.jwt.existingSecret | quote }}
      key: {{ .Values.jwt.secretKey | quote }}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret | quote }}
      key: {{ .Values.redis.urlKey | quote }}
- name: TRADEPORT__REDIS__PREFIX
  value: {{ .Values.redis.prefix | quote }}
{{- end }}
{{- if .Values.meilisearch.enabled }}
- name: MEILI_URL
  value: {{ .Values.meilisearch.url | quote }}
- name: MEILI_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.meilisearch.existingSecret | quote }}
      key: {{ .Values.meilisearch.keyKey | quote }}
{{- end }}
{{- if .Values.stripe.enabled }}
- name: STRIPE_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.stripe.existingSecret | quote }}
      key: {{ .Values.stripe.secretKeyKey | quote }}
- name: STRIPE_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.stripe.existingSecret | quote }}
      key: {{ .Values.stripe.webhookSecretKey | quote }}
{{- with .Values.stripe.publishableKey }}
- name: STRIPE_PUBLISHABLE_KEY
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if .Values.smtp.enabled }}
- name: SMTP_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.smtp.existingSecret | quote }}
      key: {{ .Values.smtp.urlKey | quote }}
{{- end }}
{{- range $section, $keys := .Values.settings }}
{{- range $key, $value := $keys }}
- name: {{ printf "TRADEPORT__%s__%s" $section $key | upper }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The data volume (media, exchange, EDO) and a writable /tmp. */}}
{{- define "tradeport.volumes" -}}
- name: data
{{- if .Values.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-data" (include "tradeport.fullname" .)) .Values.persistence.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: config
  configMap:
    name: {{ include "tradeport.fullname" . }}-config
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "tradeport.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.persistence.mountPath }}
- name: config
  mountPath: /etc/tradeport
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end -}}
