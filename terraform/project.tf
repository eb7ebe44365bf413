# The project itself: every API binderops uses, enabled by this configuration (never
# disabled on destroy: other things in the project may use them too), and the optional log
# sink for BinderHubs that emit launch events through Cloud Logging.

locals {
  apis = toset([
    "artifactregistry.googleapis.com",     # functions' container images
    "bigquery.googleapis.com",             # the warehouse
    "cloudbuild.googleapis.com",           # building functions; push-to-deploy
    "cloudfunctions.googleapis.com",       # the functions
    "cloudresourcemanager.googleapis.com", # project IAM
    "cloudscheduler.googleapis.com",       # daily and minute ticks
    "iam.googleapis.com",                  # service accounts and the deployer role
    "logging.googleapis.com",              # functions' logs; the launch-event sink
    "monitoring.googleapis.com",           # metrics, alert policies, dashboards
    "pubsub.googleapis.com",               # topics and push subscriptions
    "run.googleapis.com",                  # 2nd-gen functions run on Cloud Run
    "secretmanager.googleapis.com",        # webhook and API secrets
    "storage.googleapis.com",              # source and public buckets
  ])
}

resource "google_project_service" "apis" {
  for_each           = local.apis
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# For BinderHubs that log launch events to Cloud Logging instead of publishing them with
# binderops.launches.binderhub.PubSubHandler: the sink forwards each entry to the launch
# topic, and ingest_launch unwraps the event from the LogEntry.
resource "google_logging_project_sink" "launch_events" {
  count                  = var.launch_log_filter == "" ? 0 : 1
  project                = var.project_id
  name                   = "binderops-launch-events"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.launch.id}"
  filter                 = var.launch_log_filter
  unique_writer_identity = true
  depends_on             = [google_project_service.apis]
}

# The sink's own identity may publish to the launch topic, and nowhere else.
resource "google_pubsub_topic_iam_member" "launch_sink_publishes" {
  count   = var.launch_log_filter == "" ? 0 : 1
  project = var.project_id
  topic   = google_pubsub_topic.launch.name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.launch_events[0].writer_identity
}
