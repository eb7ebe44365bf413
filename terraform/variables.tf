variable "project_id" {
  type        = string
  description = "The Google Cloud project binderops runs in."
}

variable "region" {
  type        = string
  description = "Region of the functions and the source bucket."
  default     = "us-central1"
}

variable "dataset_id" {
  type        = string
  description = "The public BigQuery dataset. Raw tables go in a private dataset named DATASET_raw."
  default     = "binder_launches"
}

variable "dataset_location" {
  type        = string
  description = "Location of both BigQuery datasets."
  default     = "US"
}

variable "public_read" {
  type        = bool
  description = "Grant allAuthenticatedUsers read access to the public dataset (and only that dataset)."
  default     = true
}

variable "launch_topic" {
  type        = string
  description = "Pub/Sub topic BinderHub (or a log sink) publishes launch events to."
  default     = "launch-events"
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of a launch message before it moves to the dead-letter topic (5 to 100)."
  default     = 20
}

variable "default_origin" {
  type        = string
  description = "Origin recorded for launch events older than schema version 3, which carry none."
  default     = "mybinder.org"
}

variable "function_max_instances" {
  type        = number
  description = "Upper bound on ingest_launch instances."
  default     = 10
}

variable "labels" {
  type        = map(string)
  description = "Labels added to every resource that takes them."
  default     = {}
}

variable "billing_table" {
  type        = string
  description = "The standard usage cost export table, PROJECT.DATASET.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX."
  default     = ""
}

variable "cost_currency" {
  type        = string
  description = "ISO 4217 code of the reporting currency: every cost is converted to it (the billing export's own rate, an invoice's rate); what cannot be is listed beside the totals."
  default     = "USD"
}

variable "cost_timezone" {
  type        = string
  description = "Time zone of the cost day boundary (America/Los_Angeles matches the billing console)."
  default     = "UTC"
}

variable "cost_schedule" {
  type        = string
  description = "Cron schedule (UTC) of the daily cost export."
  default     = "30 6 * * *"
}

variable "archive_schedule" {
  type        = string
  description = "Cron schedule (UTC) of the daily launch archive publish: after midnight UTC, once late launches of the day before have arrived."
  default     = "30 1 * * *"
}

variable "member_costs_file" {
  type        = string
  description = "Path of the federation members' invoices CSV shipped with the function; empty for none."
  default     = ""
}

variable "members_file" {
  type        = string
  description = "Path of the federation register CSV (name,origin,url,projects,invoice,currency) shipped with the functions; empty for none."
  default     = ""
}

variable "public_bucket" {
  type        = string
  description = "Name of the public bucket for published files; default PROJECT-binderops-public."
  default     = ""
}

variable "cloudbuild_trigger" {
  type        = string
  description = "The deploy trigger, projects/P/locations/L/triggers/T; empty deploys nothing (no webhook functions)."
  default     = ""
}

variable "cloudbuild_trial_trigger" {
  type        = string
  description = "Trigger for trials of pull requests from forks, projects/P/locations/L/triggers/T, building as the trial_builds service account (no production credentials); empty refuses such trials."
  default     = ""
}

variable "deploy_request_max_age" {
  type        = number
  description = "Seconds after which a /test-this-pr comment is no longer acted on (a redelivered old comment must not deploy what was pushed since)."
  default     = 600
}

variable "cloudbuild_service_account" {
  type        = string
  description = "E-mail of the service account the deploy trigger builds as, if user-managed (the deployer must act as it)."
  default     = ""
}

variable "deploy_repos" {
  type        = list(string)
  description = "Repositories (owner/name) whose pushes deploy."
  default     = []
}

variable "deploy_branch" {
  type        = string
  description = "Branch whose pushes deploy."
  default     = "main"
}

variable "deploy_ignore" {
  type        = list(string)
  description = "Globs of paths that deploy nothing when a push touches only them."
  default     = ["docs/**"]
}

variable "deploy_rollback" {
  type        = bool
  description = "Redeploy the last good sha after a failed production deploy."
  default     = false
}

variable "deploy_override_label" {
  type        = string
  description = "Label on a PR (or text in a commit message) that lets production deploy during an incident."
  default     = "deploy-during-incident"
}

variable "incident_repo" {
  type        = string
  description = "Repository (owner/name) of incident reports; an open `incident` issue there holds production deploys."
  default     = ""
}

variable "incident_close_issue" {
  type        = bool
  description = "Close the report when the alert closes (default: leave it open for the write-up)."
  default     = false
}

variable "alert_error_ratio" {
  type        = number
  description = "Share of 5xx responses of a function that opens an incident."
  default     = 0.05
}

variable "runbook_url" {
  type        = string
  description = "Runbook linked from the alert policies' documentation."
  default     = "https://github.com/binderops/binderops#operating-it"
}

variable "check_freshness_alone" {
  type        = bool
  description = "Run the daily freshness check on its own tick (for deployments that do not publish the archive); publish_archive checks after each run otherwise."
  default     = false
}

variable "freshness_drop" {
  type        = number
  description = "A member's launches below (1 - this) of its trailing 7-day median are a drop."
  default     = 0.5
}

variable "launch_success_threshold" {
  type        = number
  description = "Share of successful launches (BinderHub's Prometheus metrics) below which, for 30 minutes, an incident opens."
  default     = 0.9
}

variable "launch_log_filter" {
  type        = string
  description = "Cloud Logging filter of BinderHub's launch-event log entries to route into the launch topic; empty for no sink (BinderHub publishes with the Pub/Sub handler)."
  default     = ""
}
