# Federation health: probe_members, fired each minute by Cloud Scheduler, probes every member
# of the register (var.members_file) and keeps the status page; a Cloud Monitoring uptime
# check per member catches an outage even while binderops itself is down.

locals {
  # The register, as probe_members reads it: comment and blank lines left out for csvdecode.
  register_lines = var.members_file == "" ? [] : [
    for line in split("\n", file(var.members_file)) : line
    if trimspace(line) != "" && !startswith(trimspace(line), "#")
  ]
  federation_members = length(local.register_lines) == 0 ? {} : {
    for m in csvdecode(join("\n", local.register_lines)) : m.name => m
  }
  federation_subscriptions = {
    probe_members = {
      name            = "probe-ticks-push"
      topic           = google_pubsub_topic.probe_ticks.id
      ack_deadline    = 60
      retention       = "600s" # a round is worth nothing ten minutes later
      minimum_backoff = "10s"
      dead_letter     = "probe-ticks-dead-letter"
    }
  }
  federation_functions = {
    probe_members = {
      name            = "probe-members"
      service_account = google_service_account.probe_members.email
      max_instances   = 1
      timeout         = 55
      public          = false
      secrets         = {}
      environment = merge(
        {
          BINDEROPS_WAREHOUSE     = "bigquery://${var.project_id}/${var.dataset_id}"
          BINDEROPS_PUBLIC_BUCKET = google_storage_bucket.public.name
        },
        local.members_env,
      )
    }
  }
}

resource "google_pubsub_topic" "probe_ticks" {
  #checkov:skip=CKV_GCP_83: messages are empty scheduler ticks; Google-managed encryption suffices.
  project                    = var.project_id
  name                       = "probe-ticks"
  message_retention_duration = "600s"
  labels                     = var.labels
  depends_on                 = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "probe_members" {
  project   = var.project_id
  region    = var.region
  name      = "binderops-probe-members"
  schedule  = "* * * * *"
  time_zone = "Etc/UTC"
  paused    = length(local.federation_members) == 0

  pubsub_target {
    topic_name = google_pubsub_topic.probe_ticks.id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.apis]
}

resource "google_service_account" "probe_members" {
  project      = var.project_id
  account_id   = "binderops-probe-members"
  display_name = "binderops probe_members"
  depends_on   = [google_project_service.apis]
}

# Writes the probe table only.
resource "google_bigquery_table_iam_member" "probe_members_writes_probes" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["member_probes"].dataset_id
  table_id   = google_bigquery_table.tables["member_probes"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.probe_members.email}"
}

resource "google_project_iam_member" "probe_members_runs_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.probe_members.email}"
}

resource "google_storage_bucket_iam_member" "probe_members_publishes" {
  bucket = google_storage_bucket.public.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.probe_members.email}"
}

# One uptime check per member: /health must say "ok": true, every minute, from three regions.
resource "google_monitoring_uptime_check_config" "members" {
  for_each         = local.federation_members
  project          = var.project_id
  display_name     = "binderops member ${each.key}"
  timeout          = "10s"
  period           = "60s"
  selected_regions = ["USA", "EUROPE", "ASIA_PACIFIC"]

  http_check {
    path         = "${trimsuffix(replace(each.value.url, "/^https?://[^/]+/", ""), "/")}/health"
    port         = startswith(each.value.url, "https://") ? 443 : 80
    use_ssl      = startswith(each.value.url, "https://")
    validate_ssl = startswith(each.value.url, "https://")
    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }
  content_matchers {
    content = "true"
    matcher = "MATCHES_JSON_PATH"
    json_path_matcher {
      json_path    = "$.ok"
      json_matcher = "EXACT_MATCH"
    }
  }
  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = regex("^https?://([^/:]+)", each.value.url)[0]
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_monitoring_alert_policy" "member_uptime" {
  count        = length(local.federation_members) == 0 ? 0 : 1
  project      = var.project_id
  display_name = "binderops federation member down (uptime check)"
  combiner     = "OR"
  dynamic "conditions" {
    for_each = google_monitoring_uptime_check_config.members
    content {
      display_name = "${conditions.key} fails its /health uptime check"
      condition_threshold {
        filter          = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\" AND metric.label.check_id=\"${conditions.value.uptime_check_id}\""
        comparison      = "COMPARISON_GT"
        threshold_value = 1
        duration        = "180s"
        aggregations {
          alignment_period     = "60s"
          per_series_aligner   = "ALIGN_NEXT_OLDER"
          cross_series_reducer = "REDUCE_COUNT_FALSE"
          group_by_fields      = ["resource.label.host"]
        }
      }
    }
  }
  documentation {
    content   = "A federation member's /health has failed from more than one region for 3 minutes. binderops' own probe (probe_members) opens an incident too; this check does not depend on binderops running."
    mime_type = "text/markdown"
    subject   = "binderops: federation member down"
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

# binderops' own judgement: a member down (3 failed probes in a row), its versions drifted
# for 30 minutes, or its launch success over 30 minutes below the threshold. The
# member_problem gauge at 1 opens an incident through the same channel as every other alert.
resource "google_monitoring_alert_policy" "member_problem" {
  count        = length(local.federation_members) == 0 ? 0 : 1
  project      = var.project_id
  display_name = "binderops federation member problem (probe)"
  combiner     = "OR"
  conditions {
    display_name = "A member down, drifted or failing launches, as probe_members judges it"
    condition_threshold {
      filter          = "metric.type = \"custom.googleapis.com/binderops/member_problem\" AND resource.type = \"generic_task\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "120s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["metric.label.member", "metric.label.problem"]
      }
      trigger {
        count = 1
      }
    }
  }
  documentation {
    content   = "probe_members found a federation member with a problem: down (3 failed probes of its /health in a row), drift (its /versions differs from the reference member's for 30 minutes) or low_success (launch success over 30 minutes below the threshold, from its /metrics). The status page (status/index.html in the public bucket) shows since when."
    mime_type = "text/markdown"
    subject   = "binderops: federation member problem"
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}
