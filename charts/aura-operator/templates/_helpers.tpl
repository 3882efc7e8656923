{{/* The chart's name, or nameOverride. */}}
{{- define "aura-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: fullnameOverride, the release name, or <release>-<chart>. */}}
{{- define "aura-operator.fullname" -}}
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

{{- define "aura-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aura-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "aura-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "aura-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "aura-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "aura-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "aura-operator.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the default credential ("" when there is none). */}}
{{- define "aura-operator.credentialsSecret" -}}
{{- if .Values.aura.credentials.existingSecret -}}
{{- .Values.aura.credentials.existingSecret -}}
{{- else if .Values.aura.credentials.clientId -}}
{{- printf "%s-credentials" (include "aura-operator.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* RBAC rules where AuraInstances are managed (templates/rbac.yaml), grouped by who needs them. */}}
{{- define "aura-operator.managedRules" }}
# --- kopf itself (the framework that runs the handlers) -------------------------------------
# Watch AuraInstances and patch their metadata: the finalizer aura-operator.dev/finalizer and
# kopf's progress and diff-base annotations (aura-operator.dev/*). kopf never updates or
# deletes them, and the operator never writes into spec.
- apiGroups: ["aura-operator.dev"]
  resources: ["aurainstances"]
  verbs: ["list", "watch", "patch"]
# Post Kubernetes events on AuraInstances (kopf posts them; repeats are patched).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# Watch the connection Secrets the operator made, so that a deleted one is noticed and restored
# at once. The watch asks the API server for Secrets labelled
# app.kubernetes.io/managed-by=aura-operator only: no other Secret is streamed to the operator.
# (RBAC cannot limit list/watch by label; the operator's own requests do.)
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["list", "watch"]
# --- the operator's reconcile loop ----------------------------------------------------------
# Re-read an AuraInstance before acting on it, and write its status (conditions, instance id,
# the create intent that makes creation happen exactly once).
- apiGroups: ["aura-operator.dev"]
  resources: ["aurainstances"]
  verbs: ["get"]
- apiGroups: ["aura-operator.dev"]
  resources: ["aurainstances/status"]
  verbs: ["get", "patch"]
# Connection Secrets carry an owner reference with blockOwnerDeletion to their AuraInstance;
# clusters that enforce owner-reference permissions (OpenShift) require this to set it.
- apiGroups: ["aura-operator.dev"]
  resources: ["aurainstances/finalizers"]
  verbs: ["update"]
# AuraCustomerManagedKeys: kopf watches them and keeps its finalizer and annotations on them
# (patch); each key's loop re-reads it and writes its status (the create intent, the key id), and
# an AuraInstance's spec.customerManagedKeyRef is read before the instance is created.
- apiGroups: ["aura-operator.dev"]
  resources: ["auracustomermanagedkeys"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["aura-operator.dev"]
  resources: ["auracustomermanagedkeys/status"]
  verbs: ["get", "patch"]
# Connection Secrets: read, create, replace (password rotation, restore) and patch (the owner
# reference is removed when an instance is retained). Also read the Secret named by
# spec.credentialsSecretRef. Deleting connection Secrets is left to the garbage collector.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "patch"]
# --- AuraGraphAnalyticsSession (docs/sessions.md) -----------------------------------------
# kopf watches them and keeps its finalizer and annotations on them (patch); each loop re-reads
# its object and writes its status (the get-or-create intent, the session id, the phase). The
# `<name>-session` Secret is written with the Secret rules above; its owner reference has
# blockOwnerDeletion, hence /finalizers.
- apiGroups: ["aura-operator.dev"]
  resources: ["auragraphanalyticssessions"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["aura-operator.dev"]
  resources: ["auragraphanalyticssessions/status"]
  verbs: ["get", "patch"]
- apiGroups: ["aura-operator.dev"]
  resources: ["auragraphanalyticssessions/finalizers"]
  verbs: ["update"]
# --- Aura's metrics of an instance (docs/metrics.md) ----------------------------------------
# spec.metrics.scrapeConfig: the operator owns one prometheus-operator ScrapeConfig per
# AuraInstance (server-side apply, owner reference to the instance) and deletes it when the
# spec no longer asks for it. It only names the Metrics Reader's Secret: it never reads it.
- apiGroups: ["monitoring.coreos.com"]
  resources: ["scrapeconfigs"]
  verbs: ["get", "create", "patch", "delete"]
# --- AuraSnapshot and AuraRestore (docs/backups.md) ----------------------------------------
# kopf watches them (a daemon per object) and patches their metadata (its annotations); neither
# kind has a finalizer, so no /finalizers permission. Each loop re-reads its object before
# acting and writes its status (the snapshot id, the restore's phase, and the intents written
# before each POST). AuraRestore and AuraInstance.spec.source.snapshotRef read AuraSnapshots;
# AuraSnapshot.spec.instanceRef and AuraRestore read AuraInstances (already granted above).
- apiGroups: ["aura-operator.dev"]
  resources: ["aurasnapshots", "aurarestores"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["aura-operator.dev"]
  resources: ["aurasnapshots/status", "aurarestores/status"]
  verbs: ["get", "patch"]
# --- AuraReferenceGrant (docs/tenancy.md) --------------------------------------------------
# Read the grants of a managing object's namespace before following a reference into it, and
# watch them so that a refused reference is tried again when a grant appears. Never written.
- apiGroups: ["aura-operator.dev"]
  resources: ["aurareferencegrants"]
  verbs: ["get", "list", "watch"]
{{- end }}
