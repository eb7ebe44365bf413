output "launch_topic" {
  description = "Topic id BinderHub publishes launch events to."
  value       = google_pubsub_topic.launch.id
}

output "launch_dead_letter_subscription" {
  description = "Subscription holding launch messages that could not be delivered."
  value       = google_pubsub_subscription.dead_letter["ingest_launch"].id
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

output "github_webhook_url" {
  description = "Payload URL for the GitHub webhook (content type application/json; the secret in binderops-github-webhook-secret)."
  value       = var.cloudbuild_trigger == "" ? "" : google_cloudfunctions2_function.functions["github_webhook"].service_config[0].uri
}

output "notify_incident_http_url" {
  description = "URL for Cloud Monitoring webhook channels: add ?token=THE_ALERT_TOKEN, or use basic auth."
  value       = google_cloudfunctions2_function.functions["notify_incident_http"].service_config[0].uri
}

output "notification_channel" {
  description = "The Pub/Sub notification channel to attach to further alert policies."
  value       = google_monitoring_notification_channel.pubsub.id
}

output "secrets" {
  description = "Secret Manager secrets to fill with `gcloud secrets versions add NAME --data-file=-`."
  value       = [for s in google_secret_manager_secret.secrets : s.secret_id]
}

output "dead_letter_subscriptions" {
  description = "For each function fed by Pub/Sub, the subscription keeping messages it could not take."
  value       = { for name, s in google_pubsub_subscription.dead_letter : name => s.id }
}

output "trial_builds_service_account" {
  description = "Service account for the trial trigger (pull requests from forks): holds no production credentials."
  value       = google_service_account.trial_builds.email
}

output "usage_badge_url" {
  description = "The usage badge: add ?repo=owner/name (and &period=7d|30d|1y|all) for a repository's badge."
  value       = google_cloudfunctions2_function.functions["usage_badge"].service_config[0].uri
}

output "archive_url" {
  description = "The public launch archive's index page."
  value       = "https://storage.googleapis.com/${google_storage_bucket.public.name}/index.html"
}
