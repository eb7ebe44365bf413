# Daily cost export: a Cloud Scheduler tick on a topic, pushed into export_costs (its push
# subscription is in main.tf with the others), which reads the billing export and writes
# cloud_costs_daily and the public cloud-costs.jsonl.

locals {
  billing_parts   = split(".", var.billing_table)
  billing_project = length(local.billing_parts) == 3 ? local.billing_parts[0] : var.project_id
  billing_dataset = length(local.billing_parts) == 3 ? local.billing_parts[1] : ""
}

resource "google_pubsub_topic" "cost_ticks" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "cost-export-ticks"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "export_costs" {
  project   = var.project_id
  region    = var.region
  name      = "binderops-export-costs"
  schedule  = var.cost_schedule
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.cost_ticks.id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "public" {
  #checkov:skip=CKV_GCP_114: the public files (archive, costs, dashboard) are for anyone to read: public access is the point.
  #checkov:skip=CKV_GCP_62: access logs of open data would record readers, which an open dataset does not need to know.
  #checkov:skip=CKV_GCP_78: every file is rewritten from the warehouse on the next run; versions would only keep copies of public data.
  project                     = var.project_id
  name                        = var.public_bucket != "" ? var.public_bucket : "${var.project_id}-binderops-public"
  location                    = var.region
  uniform_bucket_level_access = true
  labels                      = var.labels
  depends_on                  = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "public_read" {
  #checkov:skip=CKV_GCP_28: the open-data bucket is public by design (CC0 archive, costs, dashboard).
  bucket = google_storage_bucket.public.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_service_account" "export_costs" {
  project      = var.project_id
  account_id   = "binderops-export-costs"
  display_name = "binderops export_costs"
  depends_on   = [google_project_service.apis]
}

# Reads the billing export dataset only.
resource "google_bigquery_dataset_iam_member" "export_costs_reads_billing" {
  count      = local.billing_dataset == "" ? 0 : 1
  project    = local.billing_project
  dataset_id = local.billing_dataset
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.export_costs.email}"
}

# Writes the public cost table only.
resource "google_bigquery_table_iam_member" "export_costs_writes_costs" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["cloud_costs_daily"].dataset_id
  table_id   = google_bigquery_table.tables["cloud_costs_daily"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.export_costs.email}"
}

# Running queries (billed to this project) needs job creation.
resource "google_project_iam_member" "export_costs_runs_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.export_costs.email}"
}

resource "google_storage_bucket_iam_member" "export_costs_publishes" {
  bucket = google_storage_bucket.public.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.export_costs.email}"
}

# Records the federation register it reads, whole, for cost per launch per member.
resource "google_bigquery_table_iam_member" "export_costs_writes_register" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["federation_members"].dataset_id
  table_id   = google_bigquery_table.tables["federation_members"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.export_costs.email}"
}

# Cost per launch divides a day's cost by its launches: the launches_daily view only.
resource "google_bigquery_table_iam_member" "export_costs_reads_launches_daily" {
  project    = var.project_id
  dataset_id = google_bigquery_table.views["launches_daily"].dataset_id
  table_id   = google_bigquery_table.views["launches_daily"].table_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.export_costs.email}"
}
