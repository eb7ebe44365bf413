# Open launch data: a daily Cloud Scheduler tick on a topic, pushed into publish_archive
# (its push subscription is in main.tf with the others), which writes the day files, the
# monthly Parquet, the index and the badges' daily aggregate; and usage_badge, which anyone
# may call.

resource "google_pubsub_topic" "archive_ticks" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "archive-ticks"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "publish_archive" {
  project   = var.project_id
  region    = var.region
  name      = "binderops-publish-archive"
  schedule  = var.archive_schedule
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.archive_ticks.id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.apis]
}

locals {
  archive_subscriptions = {
    publish_archive = {
      name            = "archive-ticks-push"
      topic           = google_pubsub_topic.archive_ticks.id
      ack_deadline    = 600
      retention       = "86400s" # a tick not done within a day is superseded by the next
      minimum_backoff = "60s"
      dead_letter     = "archive-ticks-dead-letter"
    }
  }
  archive_functions = {
    publish_archive = {
      name            = "publish-archive"
      service_account = google_service_account.publish_archive.email
      max_instances   = 1
      timeout         = 540
      public          = false
      secrets         = {}
      environment = merge(
        {
          BINDEROPS_WAREHOUSE      = "bigquery://${var.project_id}/${var.dataset_id}"
          BINDEROPS_PUBLIC_BUCKET  = google_storage_bucket.public.name
          BINDEROPS_COST_CURRENCY  = var.cost_currency
          BINDEROPS_FRESHNESS_DROP = tostring(var.freshness_drop)
        },
        local.members_env,
      )
    }
    # Anyone's README shows it: public, answers from counts each instance loads from the
    # small daily aggregate once an hour. The timeout leaves room for an instance's first
    # load (every repository's counts); later badges answer from memory.
    usage_badge = {
      name            = "usage-badge"
      service_account = google_service_account.usage_badge.email
      max_instances   = var.function_max_instances
      timeout         = 60
      public          = true
      secrets         = {}
      environment = {
        BINDEROPS_WAREHOUSE = "bigquery://${var.project_id}/${var.dataset_id}"
      }
    }
  }
}

resource "google_service_account" "publish_archive" {
  project      = var.project_id
  account_id   = "binderops-publish-archive"
  display_name = "binderops publish_archive"
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "usage_badge" {
  project      = var.project_id
  account_id   = "binderops-usage-badge"
  display_name = "binderops usage_badge"
  depends_on   = [google_project_service.apis]
}

# Reads the raw launches table only (not the rest of the raw dataset).
resource "google_bigquery_table_iam_member" "publish_archive_reads_launches" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["launches"].dataset_id
  table_id   = google_bigquery_table.tables["launches"].table_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.publish_archive.email}"
}

# Replaces the days it publishes in the badges' aggregate, and nothing else.
resource "google_bigquery_table_iam_member" "publish_archive_writes_repo_days" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["repo_launches_daily"].dataset_id
  table_id   = google_bigquery_table.tables["repo_launches_daily"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.publish_archive.email}"
}

# Queries and EXPORT DATA are jobs billed to this project; BigQuery offers no narrower role.
resource "google_project_iam_member" "publish_archive_runs_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.publish_archive.email}"
}

# Writes, lists, copies and deletes objects (EXPORT DATA's staging files) in the public
# bucket only; objectUser is the narrowest role with list and delete.
resource "google_storage_bucket_iam_member" "publish_archive_publishes" {
  bucket = google_storage_bucket.public.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.publish_archive.email}"
}

resource "google_bigquery_table_iam_member" "usage_badge_reads_repo_days" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["repo_launches_daily"].dataset_id
  table_id   = google_bigquery_table.tables["repo_launches_daily"].table_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.usage_badge.email}"
}

resource "google_project_iam_member" "usage_badge_runs_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.usage_badge.email}"
}
