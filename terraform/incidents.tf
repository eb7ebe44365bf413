# Incident notification: a Pub/Sub notification channel pushed into notify_incident (and
# notify_incident_http for webhook channels), alert policies on metrics that exist as soon as
# binderops runs, reports on GitHub, notices in chat, and the `incidents` table.

locals {
  incident_environment = {
    BINDEROPS_WAREHOUSE            = "bigquery://${var.project_id}/${var.dataset_id}"
    BINDEROPS_INCIDENT_REPO        = var.incident_repo
    BINDEROPS_INCIDENT_CLOSE_ISSUE = tostring(var.incident_close_issue)
  }
  incident_secrets = {
    BINDEROPS_GITHUB_TOKEN     = local.secret_ids.github_token
    BINDEROPS_CHAT_WEBHOOKS    = local.secret_ids.chat_webhooks
    BINDEROPS_ALERT_TOKEN      = local.secret_ids.alert_token
    BINDEROPS_ALERT_BASIC_AUTH = local.secret_ids.alert_basic_auth
  }

  incident_functions = {
    # One instance each: the chat rate limit and the per-incident lock live in the instance.
    notify_incident = {
      name            = "notify-incident"
      service_account = google_service_account.incidents.email
      max_instances   = 1
      timeout         = 120
      public          = false
      environment     = local.incident_environment
      secrets         = local.incident_secrets
    }
    notify_incident_http = {
      name            = "notify-incident-http"
      service_account = google_service_account.incidents.email
      max_instances   = 1
      timeout         = 60
      public          = true
      environment     = local.incident_environment
      secrets         = local.incident_secrets
    }
  }

  incident_subscriptions = {
    notify_incident = {
      name            = "monitoring-alerts-notify"
      topic           = google_pubsub_topic.alerts.id
      ack_deadline    = 120
      retention       = "86400s"
      minimum_backoff = "10s"
      dead_letter     = "monitoring-alerts-notify-dead-letter"
    }
  }

  monitoring_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
  alert_documentation = {
    function_errors = "A binderops function answers with errors. Read its logs (Logs Explorer, resource Cloud Run Revision, severity ERROR); a 5xx on ingest_launch or deploy_status makes Pub/Sub redeliver, so nothing is lost while it lasts."
    dead_letters    = "Messages could not be delivered to a function after ${var.max_delivery_attempts} attempts and wait in its dead-letter subscription (kept 7 days; the condition names which). Fix the cause in the function's logs, then replay them from the subscription."
  }
}

resource "google_pubsub_topic" "alerts" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "monitoring-alerts"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

# Cloud Monitoring's notification service agent publishes alerts to the topic.
resource "google_pubsub_topic_iam_member" "monitoring_publishes" {
  project = var.project_id
  topic   = google_pubsub_topic.alerts.name
  role    = "roles/pubsub.publisher"
  member  = local.monitoring_agent
}

resource "google_monitoring_notification_channel" "pubsub" {
  project      = var.project_id
  display_name = "binderops incidents (Pub/Sub)"
  type         = "pubsub"
  labels       = { topic = google_pubsub_topic.alerts.id }
  user_labels  = var.labels
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "incidents" {
  project      = var.project_id
  account_id   = "binderops-incidents"
  display_name = "binderops notify_incident"
  depends_on   = [google_project_service.apis]
}

resource "google_bigquery_table_iam_member" "incidents_write_notifications" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["incident_notifications"].dataset_id
  table_id   = google_bigquery_table.tables["incident_notifications"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.incidents.email}"
}

resource "google_monitoring_alert_policy" "function_errors" {
  project      = var.project_id
  display_name = "binderops function error rate"
  combiner     = "OR"
  conditions {
    display_name = "5xx responses above ${var.alert_error_ratio * 100}% for 10 min"
    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alert_error_ratio
      duration           = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      trigger {
        count = 1
      }
    }
  }
  documentation {
    content   = local.alert_documentation.function_errors
    mime_type = "text/markdown"
    subject   = "binderops: function error rate"
    links {
      display_name = "Runbook"
      url          = var.runbook_url
    }
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

resource "google_monitoring_alert_policy" "launch_dead_letters" {
  project      = var.project_id
  display_name = "binderops messages dead-lettered"
  combiner     = "OR"
  conditions {
    display_name = "Dead-lettered messages above 0 for 5 min"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = one_of(${join(", ", [for s in google_pubsub_subscription.dead_letter : "\"${s.name}\""])}) AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
      trigger {
        count = 1
      }
    }
  }
  documentation {
    content   = local.alert_documentation.dead_letters
    mime_type = "text/markdown"
    subject   = "binderops: messages dead-lettered"
    links {
      display_name = "Runbook"
      url          = var.runbook_url
    }
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

# After each recorded notification it counts the open incidents (the open_incidents
# metric): a query job (BigQuery has no narrower role than the project's jobUser) reading
# the incidents view only.
resource "google_project_iam_member" "incidents_run_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.incidents.email}"
}

resource "google_bigquery_table_iam_member" "incidents_read_incidents" {
  project    = var.project_id
  dataset_id = google_bigquery_table.views["incidents"].dataset_id
  table_id   = google_bigquery_table.views["incidents"].table_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.incidents.email}"
}
