{{/*
Chart name, shortened to the 63 characters a label value allows.
*/}}
{{- define "dupcert.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: the release name, plus the chart name unless the release
name already contains it.
*/}}
{{- define "dupcert.fullname" -}}
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

{{/*
Chart name and version, as the helm.sh/chart label expects.
*/}}
{{- define "dupcert.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource of the release.
*/}}
{{- define "dupcert.labels" -}}
helm.sh/chart: {{ include "dupcert.chart" . }}
app.kubernetes.io/name: {{ include "dupcert.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels of the operator pod. They must never change between releases, because a
Deployment's selector is immutable.
*/}}
{{- define "dupcert.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dupcert.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Selector labels of the CertCentral simulator pod.
*/}}
{{- define "dupcert.simulatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "dupcert.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: simulator
{{- end }}

{{/*
Name of the operator's ServiceAccount.
*/}}
{{- define "dupcert.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dupcert.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository with the digest when set, else with the tag (default appVersion).
*/}}
{{- define "dupcert.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the simulator's Deployment and Service.
*/}}
{{- define "dupcert.simulatorName" -}}
{{- printf "%s-simulator" (include "dupcert.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Rules on the namespaced resources the operator manages. They are granted by a ClusterRole
when all namespaces are watched, or by a Role in each watched namespace.
- DuplicateCertificates and CertCentralIssuers: Kopf lists and watches them, and patches
  them to add its finalizer and dupcert.io annotations; the handlers read them by name.
- Their status subresource: the handlers and Kopf write conditions there.
- Secrets: API key and CA bundle Secrets are read; TLS and next-private-key Secrets are
  created, replaced and deleted.
- Events: Kopf posts core v1 Events about the resources.
*/}}
{{- define "dupcert.namespacedRules" -}}
- apiGroups: ["dupcert.io"]
  resources: ["duplicatecertificates", "certcentralissuers"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["dupcert.io"]
  resources: ["duplicatecertificates/status", "certcentralissuers/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
Rules on cluster-scoped resources, needed in every scope.
- CustomResourceDefinitions: Kopf watches them to notice its resources being added or
  removed.
- ClusterCertCentralIssuers and their status, as for the namespaced kinds.
*/}}
{{- define "dupcert.clusterRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["dupcert.io"]
  resources: ["clustercertcentralissuers"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["dupcert.io"]
  resources: ["clustercertcentralissuers/status"]
  verbs: ["get", "patch", "update"]
{{- end }}
