# Operational metrics (schemas/metrics.json) in Cloud Monitoring: who may write them, the
# minute tick that keeps the public dashboard's live.json current, the freshness check
# (its own daily tick where the archive is not published), alert policies on the channel
# into notify_incident, and the operators' dashboard.

locals {
  metrics = { for name, m in jsondecode(file("${local.schemas}/metrics.json")) : name => m if !startswith(name, "_") }
  # Every function records metrics (BINDEROPS_METRICS=monitoring, set for all in main.tf);
  # keyed by account, statically, so a plan knows the keys before the accounts exist.
  metric_writers = {
    ingest_launch = google_service_account.ingest_launch.email
    export_costs  = google_service_account.export_costs.email
    publish       = google_service_account.publish_archive.email
    usage_badge   = google_service_account.usage_badge.email
    deploys       = google_service_account.deploys.email
    incidents     = google_service_account.incidents.email
    probe_members = google_service_account.probe_members.email
  }
  monitoring_subscriptions = {
    publish_live = {
      name            = "live-ticks-push"
      topic           = google_pubsub_topic.live_ticks.id
      ack_deadline    = 60
      retention       = "600s" # a minute's tick is worthless ten minutes later
      minimum_backoff = "10s"
      dead_letter     = "live-ticks-dead-letter"
    }
    check_freshness = {
      name            = "freshness-ticks-push"
      topic           = google_pubsub_topic.freshness_ticks.id
      ack_deadline    = 300
      retention       = "86400s"
      minimum_backoff = "60s"
      dead_letter     = "freshness-ticks-dead-letter"
    }
  }
  monitoring_functions = {
    # Rewrites dashboard/live.json in the public bucket from one partition-pruned query.
    publish_live = {
      name            = "publish-live"
      service_account = google_service_account.publish_archive.email
      max_instances   = 1
      timeout         = 50
      public          = false
      secrets         = {}
      environment = {
        BINDEROPS_WAREHOUSE     = "bigquery://${var.project_id}/${var.dataset_id}"
        BINDEROPS_PUBLIC_BUCKET = google_storage_bucket.public.name
      }
    }
    check_freshness = {
      name            = "check-freshness"
      service_account = google_service_account.publish_archive.email
      max_instances   = 1
      timeout         = 120
      public          = false
      secrets         = {}
      environment = merge(
        {
          BINDEROPS_WAREHOUSE      = "bigquery://${var.project_id}/${var.dataset_id}"
          BINDEROPS_FRESHNESS_DROP = tostring(var.freshness_drop)
        },
        local.members_env,
      )
    }
  }
}

resource "google_pubsub_topic" "live_ticks" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "live-ticks"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

resource "google_cloud_scheduler_job" "publish_live" {
  project   = var.project_id
  region    = var.region
  name      = "binderops-publish-live"
  schedule  = "* * * * *"
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.live_ticks.id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "freshness_ticks" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "freshness-ticks"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

# publish_archive checks freshness after each run; this tick runs the check alone, and is
# paused unless the archive is not published (check_freshness_alone).
resource "google_cloud_scheduler_job" "check_freshness" {
  project   = var.project_id
  region    = var.region
  name      = "binderops-check-freshness"
  schedule  = var.archive_schedule
  time_zone = "Etc/UTC"
  paused    = !var.check_freshness_alone

  pubsub_target {
    topic_name = google_pubsub_topic.freshness_ticks.id
    data       = base64encode("{}")
  }
  depends_on = [google_project_service.apis]
}

# Cloud Monitoring has no role narrower than writing any metric of the project.
resource "google_project_iam_member" "metric_writers" {
  for_each = local.metric_writers
  project  = var.project_id
  role     = "roles/monitoring.metricWriter"
  member   = "serviceAccount:${each.value}"
}

# The dashboard and live.json read the public views (deployments, incidents, launches_daily).
resource "google_bigquery_dataset_iam_member" "publish_reads_public" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.public.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.publish_archive.email}"
}

resource "google_monitoring_metric_descriptor" "metrics" {
  for_each     = local.metrics
  project      = var.project_id
  type         = "custom.googleapis.com/binderops/${each.key}"
  metric_kind  = each.value.kind
  value_type   = each.value.value_type
  unit         = each.value.unit
  description  = each.value.description
  display_name = "binderops ${replace(each.key, "_", " ")}"

  dynamic "labels" {
    for_each = each.value.labels
    content {
      key         = labels.key
      value_type  = "STRING"
      description = labels.value
    }
  }
  depends_on = [google_project_service.apis]
}

locals {
  monitoring_documentation = {
    silent_origin = "A federation member has recorded no launch for 15 minutes. Check its BinderHub (is it up? is its event logging configured?) and the launch topic's dead letters."
    freshness     = "Yesterday's launch data looks incomplete: the condition's labels name the member and the problem (missing_day, silent_origin, drop). A late delivery heals itself at the next publish run; otherwise replay from the member's logs or its dead letters."
    success_rate  = "BinderHub's own launch metric (binderhub_launch_time_seconds, exported by Google Managed Prometheus) shows launch successes below ${var.launch_success_threshold * 100}% for 30 minutes. Launch events cannot show this: they are emitted for successful launches only."
  }
  alert_policies = {
    silent_origin = {
      display_name = "binderops federation member silent"
      condition    = "No launches from a member for 15 min"
      absent = {
        filter   = "resource.type = \"generic_task\" AND metric.type = \"custom.googleapis.com/binderops/launches\""
        group_by = ["metric.labels.origin"]
        duration = "900s"
      }
    }
    freshness = {
      display_name = "binderops launch data freshness"
      condition    = "A freshness finding (missing day, silent member, drop)"
      threshold = {
        filter   = "resource.type = \"generic_task\" AND metric.type = \"custom.googleapis.com/binderops/freshness\""
        group_by = ["metric.labels.origin", "metric.labels.problem"]
      }
    }
  }
}

resource "google_monitoring_alert_policy" "silent_origin" {
  project      = var.project_id
  display_name = local.alert_policies.silent_origin.display_name
  combiner     = "OR"
  conditions {
    display_name = local.alert_policies.silent_origin.condition
    condition_absent {
      filter   = local.alert_policies.silent_origin.absent.filter
      duration = local.alert_policies.silent_origin.absent.duration
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = local.alert_policies.silent_origin.absent.group_by
      }
      trigger {
        count = 1
      }
    }
  }
  documentation {
    content   = local.monitoring_documentation.silent_origin
    mime_type = "text/markdown"
    subject   = "binderops: a federation member is silent"
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

resource "google_monitoring_alert_policy" "freshness" {
  project      = var.project_id
  display_name = local.alert_policies.freshness.display_name
  combiner     = "OR"
  conditions {
    display_name = local.alert_policies.freshness.condition
    condition_threshold {
      filter          = local.alert_policies.freshness.threshold.filter
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "3600s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = local.alert_policies.freshness.threshold.group_by
      }
      trigger {
        count = 1
      }
    }
  }
  documentation {
    content   = local.monitoring_documentation.freshness
    mime_type = "text/markdown"
    subject   = "binderops: launch data freshness"
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

# BinderHub's Prometheus metrics carry the launch outcome; Google Managed Prometheus
# exports them to Cloud Monitoring, where PromQL reads them.
resource "google_monitoring_alert_policy" "launch_success_rate" {
  project      = var.project_id
  display_name = "binderops launch success rate"
  combiner     = "OR"
  conditions {
    display_name = "Launch success below ${var.launch_success_threshold * 100}% for 30 min"
    condition_prometheus_query_language {
      query               = "sum(rate(binderhub_launch_time_seconds_count{status=\"success\"}[30m])) / sum(rate(binderhub_launch_time_seconds_count[30m])) < ${var.launch_success_threshold}"
      duration            = "1800s"
      evaluation_interval = "60s"
    }
  }
  documentation {
    content   = local.monitoring_documentation.success_rate
    mime_type = "text/markdown"
    subject   = "binderops: launch success rate"
  }
  notification_channels = [google_monitoring_notification_channel.pubsub.id]
  user_labels           = var.labels
  depends_on            = [google_project_service.apis]
}

# The operators' dashboard: one chart per custom metric, summed over instances.
resource "google_monitoring_dashboard" "operators" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName = "binderops operations"
    mosaicLayout = {
      columns = 12
      tiles = [
        for i, name in sort(keys(local.metrics)) : {
          xPos   = (i % 2) * 6
          yPos   = floor(i / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = "${name}: ${local.metrics[name].description}"
            xyChart = {
              dataSets = [{
                plotType = "LINE"
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "metric.type=\"custom.googleapis.com/binderops/${name}\" resource.type=\"generic_task\""
                    aggregation = {
                      alignmentPeriod    = "300s"
                      perSeriesAligner   = local.metrics[name].kind == "CUMULATIVE" ? "ALIGN_RATE" : "ALIGN_MEAN"
                      crossSeriesReducer = local.metrics[name].kind == "CUMULATIVE" ? "REDUCE_SUM" : "REDUCE_MAX"
                      groupByFields      = [for label in keys(local.metrics[name].labels) : "metric.label.${label}"]
                    }
                  }
                }
              }]
            }
          }
        }
      ]
    }
  })
  depends_on = [google_project_service.apis]
}
