{{- define "ramp.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped objects of a namespace-scoped install carry the namespace, so installs in several namespaces never collide. */}}
{{- define "ramp.clusterName" -}}
{{- if .Values.watchNamespace -}}
{{- printf "%s-%s" (include "ramp.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- include "ramp.fullname" . -}}
{{- end -}}
{{- end -}}

{{- define "ramp.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ramp.labels" -}}
{{ include "ramp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "ramp.metadata" -}}
name: {{ include "ramp.fullname" . }}
namespace: {{ .Release.Namespace }}
labels:
  {{- include "ramp.labels" . | nindent 2 }}
{{- end -}}

{{/*
What the controller does in the namespaces it watches: exactly the calls in src/ (the table in
docs/install.md names the code behind each rule; test/rbac.test.ts removes each one and sees it fail).
*/}}
{{- define "ramp.watchedRules" -}}
- apiGroups: [ramp.dev]
  resources: [rollouts]
  verbs: [get, list, watch, patch]
- apiGroups: [ramp.dev]
  resources: [rollouts/status]
  verbs: [update, patch]
- apiGroups: [ramp.dev]
  resources: [analysisruns]
  verbs: [get, list, watch, create, patch]
- apiGroups: [ramp.dev]
  resources: [analysisruns/status]
  verbs: [update]
- apiGroups: [ramp.dev]
  resources: [analysistemplates]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [controllerrevisions]
  verbs: [list, watch, create, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, patch]
{{- if .Values.jobProvider.enabled }}
# The job metric provider: the metric's Job, watched by name until it ends, then deleted.
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, watch, create, delete]
{{- end }}
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, patch]
# A routed canary's weight waits for its Service's ready endpoints, read from a cache.
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
- apiGroups: [""]
  resources: [pods]
  verbs: [list, delete]
# patch: a repeated Event is counted on the one first written (kube/events.ts).
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, create, patch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- if .Values.dashboard.enabled }}
# The dashboard shows pods' readiness and the Events about Rollouts as they come.
- apiGroups: [""]
  resources: [pods, events]
  verbs: [list, watch]
{{- end }}
{{- /* Routers read their objects from caches kept by list and watch. */}}
{{- if .Values.routers.gatewayAPI }}
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes, grpcroutes]
  verbs: [get, list, watch, update]
- apiGroups: [gateway.networking.k8s.io]
  resources: [referencegrants]
  verbs: [get, list, watch]
{{- end }}
{{- if .Values.routers.istio }}
- apiGroups: [networking.istio.io]
  resources: [virtualservices, destinationrules]
  verbs: [get, list, watch, update]
{{- end }}
{{- if .Values.routers.nginx }}
- apiGroups: [networking.k8s.io]
  resources: [ingresses]
  verbs: [get, list, watch, create, update]
{{- end }}
{{- if .Values.routers.smi }}
- apiGroups: [split.smi-spec.io]
  resources: [trafficsplits]
  verbs: [get, list, watch, create, update]
{{- end }}
{{- end -}}

{{- define "ramp.clusterTemplateRules" -}}
- apiGroups: [ramp.dev]
  resources: [clusteranalysistemplates]
  verbs: [get, list, watch]
{{- if .Values.dashboard.enabled }}
# The dashboard asks who a caller is and what they may do.
- apiGroups: [authentication.k8s.io]
  resources: [tokenreviews]
  verbs: [create]
- apiGroups: [authorization.k8s.io]
  resources: [subjectaccessreviews]
  verbs: [create]
{{- end }}
{{- end -}}

{{- define "ramp.subject" -}}
subjects:
  - kind: ServiceAccount
    name: {{ include "ramp.fullname" . }}
    namespace: {{ .Release.Namespace }}
{{- end -}}
