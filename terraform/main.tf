# binderops launch analytics: Pub/Sub topic with dead letters, BigQuery datasets and the
# tables and views of schemas/catalog.json, and the ingest_launch function.

locals {
  schemas    = "${path.module}/../schemas"
  source_dir = "${path.module}/../functions"
  catalog    = jsondecode(file("${local.schemas}/catalog.json"))
  datasets = {
    public = google_bigquery_dataset.public.dataset_id
    raw    = google_bigquery_dataset.raw.dataset_id
  }
  # The dataset names views are written against: `project`.`dataset`.
  sql_datasets = { for kind, id in local.datasets : kind => "`${var.project_id}`.`${id}`" }
  # The functions' source: functions/ plus schemas/, which the code reads at run time, and
  # the members' invoices file when there is one. The one-machine tooling (binderops/local/)
  # is left out: the deployed functions never import it.
  source_files = merge(
    { for f in fileset(local.source_dir, "**") : f => "${local.source_dir}/${f}" if !can(regex("__pycache__|\\.pyc$|egg-info|^binderops/local/", f)) },
    { for f in fileset(local.schemas, "**") : "schemas/${f}" => "${local.schemas}/${f}" },
    var.member_costs_file == "" ? {} : { "member-costs.csv" = var.member_costs_file },
    var.members_file == "" ? {} : { "members.csv" = var.members_file },
  )
  # The federation register, for the functions that read it (costs, freshness, dashboard).
  members_env = var.members_file == "" ? {} : { BINDEROPS_MEMBERS = "members.csv" }
}

data "google_project" "this" {
  project_id = var.project_id
}

# --- Pub/Sub ---------------------------------------------------------------------------

resource "google_pubsub_topic" "launch" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = var.launch_topic
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

# Each function is fed by a push subscription we own (rather than an Eventarc trigger), so
# that it can have a dead-letter policy. Pub/Sub retries every failed delivery with backoff.
locals {
  push_subscriptions = merge(local.deploy_subscriptions, local.incident_subscriptions, local.archive_subscriptions, local.monitoring_subscriptions, local.federation_subscriptions, {
    ingest_launch = {
      name            = "${var.launch_topic}-ingest"
      topic           = google_pubsub_topic.launch.id
      ack_deadline    = 60
      retention       = "604800s"
      minimum_backoff = "10s"
      dead_letter     = "${var.launch_topic}-dead-letter"
    }
    export_costs = {
      name            = "cost-export-ticks-push"
      topic           = google_pubsub_topic.cost_ticks.id
      ack_deadline    = 600
      retention       = "86400s" # a tick not done within a day is superseded by the next
      minimum_backoff = "60s"
      dead_letter     = "cost-export-ticks-dead-letter"
    }
  })
}

resource "google_pubsub_subscription" "push" {
  for_each                   = local.push_subscriptions
  project                    = var.project_id
  name                       = each.value.name
  topic                      = each.value.topic
  ack_deadline_seconds       = each.value.ack_deadline
  message_retention_duration = each.value.retention
  push_config {
    push_endpoint = google_cloudfunctions2_function.functions[each.key].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.pubsub_invoker.email
    }
  }
  retry_policy {
    minimum_backoff = each.value.minimum_backoff
    maximum_backoff = "600s"
  }
  # What still fails after max_delivery_attempts is set aside, never lost: an operator
  # inspects it in the dead-letter subscription and replays it once the cause is fixed.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }
  expiration_policy {
    ttl = ""
  }
  labels = var.labels
}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  for_each   = local.push_subscriptions
  project    = var.project_id
  name       = each.value.dead_letter
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

# Keeps dead letters for an operator to inspect and replay; alerts watch their backlog.
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.push_subscriptions
  project                    = var.project_id
  name                       = each.value.dead_letter
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
  labels = var.labels
}

# Pub/Sub's own service agent moves a message to the dead-letter topic: it must publish
# there and acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.push_subscriptions
  project  = var.project_id
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.push_subscriptions
  project      = var.project_id
  subscription = google_pubsub_subscription.push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# --- BigQuery --------------------------------------------------------------------------

resource "google_bigquery_dataset" "public" {
  #checkov:skip=CKV_GCP_81: public data: a customer-managed key would protect nothing anyone may not read, and its rotation would be one more manual duty.
  project     = var.project_id
  dataset_id  = var.dataset_id
  location    = var.dataset_location
  description = "BinderHub launches, deduplicated and anonymised. Public."
  labels      = var.labels
  depends_on  = [google_project_service.apis]
}

resource "google_bigquery_dataset" "raw" {
  #checkov:skip=CKV_GCP_81: Google-managed encryption at rest; launches are anonymised before they are stored, and a customer-managed key adds a manual duty for no reader it keeps out.
  project     = var.project_id
  dataset_id  = "${var.dataset_id}_raw"
  location    = var.dataset_location
  description = "What binderops functions write. Private; the public dataset's views read it."
  labels      = var.labels
  depends_on  = [google_project_service.apis]
}

resource "google_bigquery_dataset_iam_member" "public_read" {
  count      = var.public_read ? 1 : 0
  project    = var.project_id
  dataset_id = google_bigquery_dataset.public.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = "allAuthenticatedUsers"
}

resource "google_bigquery_table" "tables" {
  #checkov:skip=CKV_GCP_80: encrypted by its dataset's Google-managed key (see the datasets' skip of CKV_GCP_81).
  for_each            = local.catalog.tables
  project             = var.project_id
  dataset_id          = local.datasets[each.value.dataset]
  table_id            = each.key
  description         = each.value.description
  schema              = file("${local.schemas}/${each.value.schema}")
  clustering          = length(each.value.clustering) > 0 ? each.value.clustering : null
  deletion_protection = true
  labels              = var.labels

  dynamic "time_partitioning" {
    for_each = can(each.value.time_partitioning) ? [each.value.time_partitioning] : []
    content {
      type  = time_partitioning.value.type
      field = time_partitioning.value.field
    }
  }
}

resource "google_bigquery_table" "views" {
  #checkov:skip=CKV_GCP_80: a view stores no data to encrypt.
  #checkov:skip=CKV_GCP_121: a view holds no data: it is recreated from schemas/sql whenever its query changes.
  for_each            = local.catalog.views
  project             = var.project_id
  dataset_id          = local.datasets[each.value.dataset]
  table_id            = each.key
  description         = each.value.description
  deletion_protection = false
  labels              = var.labels

  view {
    query          = templatefile("${local.schemas}/${each.value.query}", local.sql_datasets)
    use_legacy_sql = false
  }

  depends_on = [google_bigquery_table.tables]
}

# Public views read the private raw dataset as authorized views.
resource "google_bigquery_dataset_access" "authorized_views" {
  for_each   = { for name, view in local.catalog.views : name => view if view.dataset == "public" }
  project    = var.project_id
  dataset_id = google_bigquery_dataset.raw.dataset_id
  view {
    project_id = var.project_id
    dataset_id = google_bigquery_table.views[each.key].dataset_id
    table_id   = google_bigquery_table.views[each.key].table_id
  }
}

# --- ingest_launch ---------------------------------------------------------------------

resource "google_service_account" "ingest_launch" {
  project      = var.project_id
  account_id   = "binderops-ingest-launch"
  display_name = "binderops ingest_launch"
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "pubsub_invoker" {
  project      = var.project_id
  account_id   = "binderops-pubsub-invoker"
  display_name = "Pub/Sub push into binderops functions"
  depends_on   = [google_project_service.apis]
}

# Streams into the two tables it writes, and nothing else of the raw dataset.
resource "google_bigquery_table_iam_member" "ingest_writes" {
  for_each   = toset(["launches", "launch_errors"])
  project    = var.project_id
  dataset_id = google_bigquery_table.tables[each.key].dataset_id
  table_id   = google_bigquery_table.tables[each.key].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.ingest_launch.email}"
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62: access logs of a bucket only Terraform and Cloud Build read would need a second bucket for nothing; Cloud Audit Logs record who changes it.
  project                     = var.project_id
  name                        = "${var.project_id}-binderops-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = var.labels
  versioning {
    enabled = true
  }
  # Each deploy uploads a new archive: old ones are kept a month, for rollbacks.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/.build/functions.zip"

  dynamic "source" {
    for_each = local.source_files
    content {
      filename = source.key
      content  = file(source.value)
    }
  }
}

resource "google_storage_bucket_object" "source" {
  name   = "functions-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

# Every function: one source, its own service account, pushed to by Pub/Sub only.
locals {
  # Every function: its entry point (the key), service account, scaling, whether anyone may
  # call it (webhooks authenticate callers themselves), and Secret Manager secrets it reads
  # as environment variables. deploys.tf and incidents.tf add theirs.
  functions = merge(local.deploy_functions, local.incident_functions, local.archive_functions, local.monitoring_functions, local.federation_functions, {
    ingest_launch = {
      name            = "ingest-launch"
      service_account = google_service_account.ingest_launch.email
      max_instances   = var.function_max_instances
      timeout         = 60
      public          = false
      secrets         = {}
      environment = {
        BINDEROPS_WAREHOUSE      = "bigquery://${var.project_id}/${var.dataset_id}"
        BINDEROPS_DEFAULT_ORIGIN = var.default_origin
      }
    }
    export_costs = {
      name            = "export-costs"
      service_account = google_service_account.export_costs.email
      max_instances   = 1
      timeout         = 300
      public          = false
      secrets         = {}
      environment = merge(
        {
          BINDEROPS_WAREHOUSE     = "bigquery://${var.project_id}/${var.dataset_id}"
          BINDEROPS_BILLING_TABLE = var.billing_table
          BINDEROPS_COST_TIMEZONE = var.cost_timezone
          BINDEROPS_COST_CURRENCY = var.cost_currency
          BINDEROPS_PUBLIC_BUCKET = google_storage_bucket.public.name
        },
        var.member_costs_file == "" ? {} : { BINDEROPS_MEMBER_COSTS = "member-costs.csv" },
        local.members_env,
      )
    }
  })
}

resource "google_cloudfunctions2_function" "functions" {
  #checkov:skip=CKV_GCP_124: only the public functions (github_webhook, notify_incident_http, usage_badge) allow all ingress: GitHub, Monitoring's webhook and README readers call them from the internet; the rest are internal only.
  for_each = local.functions
  project  = var.project_id
  location = var.region
  name     = each.value.name
  labels   = var.labels

  build_config {
    runtime     = "python311"
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = each.value.service_account
    max_instance_count               = each.value.max_instances
    max_instance_request_concurrency = 8
    available_cpu                    = "1"
    available_memory                 = "512Mi"
    timeout_seconds                  = each.value.timeout
    ingress_settings                 = each.value.public ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    # Every function records metrics into Cloud Monitoring, as generic_task series here.
    environment_variables = merge(each.value.environment, {
      BINDEROPS_METRICS = "monitoring"
      BINDEROPS_REGION  = var.region
    })

    dynamic "secret_environment_variables" {
      for_each = each.value.secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  depends_on = [google_project_service.apis, google_secret_manager_secret_iam_member.functions_read]
}

resource "google_cloud_run_service_iam_member" "pubsub_invokes" {
  for_each = local.push_subscriptions
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.functions[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pubsub_invoker.email}"
}

# GitHub and Cloud Monitoring's webhook channel cannot present Google credentials; those
# functions check an HMAC signature or a token themselves.
resource "google_cloud_run_service_iam_member" "public_invokes" {
  #checkov:skip=CKV_GCP_102: GitHub, Monitoring's webhook channel and README readers cannot present Google credentials; these functions check an HMAC signature or a token themselves, and the badge serves public counts.
  for_each = { for name, f in local.functions : name => f if f.public }
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.functions[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Secrets are created empty: add their values with `gcloud secrets versions add NAME
# --data-file=-`, so they never pass through Terraform state.
resource "google_secret_manager_secret" "secrets" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.value
  labels    = var.labels
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_iam_member" "functions_read" {
  for_each = merge([
    for name, f in local.functions : { for env, secret in f.secrets : "${name}/${env}" => { secret = secret, account = f.service_account } }
  ]...)
  project   = var.project_id
  secret_id = each.value.secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value.account}"
}
