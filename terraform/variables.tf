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

variable "member_costs_file" {
  type        = string
  description = "Path of the federation members' invoices CSV shipped with the function; empty for none."
  default     = ""
}

variable "public_bucket" {
  type        = string
  description = "Name of the public bucket for published files; default PROJECT-binderops-public."
  default     = ""
}
