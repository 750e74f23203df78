{{/* Names and labels shared by every object. */}}
{{- define "kuberelay.labels" -}}
app.kubernetes.io/part-of: kuberelay
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "kuberelay.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
NODE_OPTIONS' heap cap: heapMiB, else heapPercent of resources.limits.memory (Mi or Gi). The heap
must stay below the container's limit so V8 collects garbage before the kernel kills the process.
Called with (dict "part" .Values.mgmtServer "name" "mgmtServer").
*/}}
{{- define "kuberelay.heapMiB" -}}
{{- $part := .part -}}
{{- if $part.heapMiB -}}
{{ int $part.heapMiB }}
{{- else -}}
{{- $limit := toString (default "" (($part.resources).limits).memory) -}}
{{- $mi := 0 -}}
{{- if hasSuffix "Gi" $limit -}}
{{- $mi = mul (trimSuffix "Gi" $limit | int) 1024 -}}
{{- else if hasSuffix "Mi" $limit -}}
{{- $mi = trimSuffix "Mi" $limit | int -}}
{{- else -}}
{{- fail (printf "%s.resources.limits.memory must be set in Mi or Gi (it is %q) so the heap cap can follow it, or set %s.heapMiB" .name $limit .name) -}}
{{- end -}}
{{ div (mul $mi (int $part.heapPercent)) 100 }}
{{- end -}}
{{- end }}

{{/* Pod anti-affinity between the replicas of one part, unless `affinity` replaces it. */}}
{{- define "kuberelay.affinity" -}}
{{- $part := .part -}}
{{- if $part.affinity }}
affinity:
  {{- toYaml $part.affinity | nindent 2 }}
{{- else if eq $part.antiAffinity "preferred" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {{ .name }}
{{- else if eq $part.antiAffinity "required" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/name: {{ .name }}
{{- end }}
{{- end }}

{{/* Scheduling and pod-level settings common to both Deployments. */}}
{{- define "kuberelay.podScheduling" -}}
{{- $part := .part -}}
{{- with $part.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $part.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $part.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- end }}
