output "launch_topic" {
  description = "Topic id BinderHub publishes launch events to."
  value       = google_pubsub_topic.launch.id
}

output "launch_dead_letter_subscription" {
  description = "Subscription holding launch messages that could not be delivered."
  value       = google_pubsub_subscription.launch_dead_letter.id
}

output "public_dataset" {
  description = "The public BigQuery dataset (views anyone authenticated can read)."
  value       = "${var.project_id}.${google_bigquery_dataset.public.dataset_id}"
}

output "raw_dataset" {
  description = "The private BigQuery dataset the functions write."
  value       = "${var.project_id}.${google_bigquery_dataset.raw.dataset_id}"
}

output "warehouse_url" {
  description = "BINDEROPS_WAREHOUSE for the CLI and functions."
  value       = "bigquery://${var.project_id}/${google_bigquery_dataset.public.dataset_id}"
}

output "ingest_launch_uri" {
  description = "URL of the ingest_launch function (internal ingress; Pub/Sub pushes to it)."
  value       = google_cloudfunctions2_function.functions["ingest_launch"].service_config[0].uri
}

output "ingest_launch_service_account" {
  description = "Service account ingest_launch runs as."
  value       = google_service_account.ingest_launch.email
}

output "public_bucket" {
  description = "Bucket of the public files (cloud-costs.jsonl)."
  value       = google_storage_bucket.public.name
}

output "export_costs_service_account" {
  description = "Service account export_costs runs as."
  value       = google_service_account.export_costs.email
}
