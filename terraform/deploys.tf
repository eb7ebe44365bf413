# Push-to-deploy: GitHub webhooks into github_webhook, which runs the deploy trigger on Cloud
# Build; Cloud Build's own `cloud-builds` topic pushed into deploy_status, which reports to
# GitHub, records `deployments` and promotes staging to production.

locals {
  secrets = {
    github_token          = "binderops-github-token"
    github_webhook_secret = "binderops-github-webhook-secret"
    alert_token           = "binderops-alert-token"
    alert_basic_auth      = "binderops-alert-basic-auth"
    chat_webhooks         = "binderops-chat-webhooks"
  }
  secret_ids = { for key, id in local.secrets : key => google_secret_manager_secret.secrets[key].secret_id }

  deploy_environment = {
    BINDEROPS_WAREHOUSE                = "bigquery://${var.project_id}/${var.dataset_id}"
    BINDEROPS_DEPLOY_BACKEND           = "cloudbuild"
    BINDEROPS_CLOUDBUILD_TRIGGER       = var.cloudbuild_trigger
    BINDEROPS_CLOUDBUILD_TRIAL_TRIGGER = var.cloudbuild_trial_trigger
    BINDEROPS_DEPLOY_REQUEST_MAX_AGE   = tostring(var.deploy_request_max_age)
    BINDEROPS_DEPLOY_REPOS             = join(",", var.deploy_repos)
    BINDEROPS_DEPLOY_BRANCH            = var.deploy_branch
    BINDEROPS_DEPLOY_IGNORE            = join(",", var.deploy_ignore)
    BINDEROPS_DEPLOY_ROLLBACK          = tostring(var.deploy_rollback)
    BINDEROPS_DEPLOY_OVERRIDE_LABEL    = var.deploy_override_label
    BINDEROPS_INCIDENT_REPO            = var.incident_repo
  }

  # Without a trigger there is nothing to deploy with: no webhook functions. (A filtering
  # `for` rather than `? {} :`, which Terraform cannot type.)
  deploy_functions = { for name, f in {
    github_webhook = {
      name            = "github-webhook"
      service_account = google_service_account.deploys.email
      # One instance: concurrent deliveries for one sha wait for each other (see deploys.py).
      max_instances = 1
      timeout       = 30
      public        = true
      environment   = local.deploy_environment
      secrets = {
        BINDEROPS_GITHUB_WEBHOOK_SECRET = local.secret_ids.github_webhook_secret
        BINDEROPS_GITHUB_TOKEN          = local.secret_ids.github_token
      }
    }
    deploy_status = {
      name            = "deploy-status"
      service_account = google_service_account.deploys.email
      max_instances   = 1
      timeout         = 120
      public          = false
      environment     = local.deploy_environment
      secrets         = { BINDEROPS_GITHUB_TOKEN = local.secret_ids.github_token }
    }
  } : name => f if var.cloudbuild_trigger != "" }

  deploy_subscriptions = { for name, s in {
    deploy_status = {
      name            = "cloud-builds-deploy-status"
      topic           = google_pubsub_topic.cloud_builds.id
      ack_deadline    = 120
      retention       = "86400s"
      minimum_backoff = "10s"
      dead_letter     = "cloud-builds-deploy-status-dead-letter"
    }
  } : name => s if var.cloudbuild_trigger != "" }
}

# Cloud Build publishes every build's status changes to a topic of this name, if it exists.
resource "google_pubsub_topic" "cloud_builds" {
  #checkov:skip=CKV_GCP_83: messages are launch events (anonymised on the way in), ticks or build and alert notices, kept at most 7 days; Google-managed encryption suffices, and a customer key would be one more manual duty.
  project    = var.project_id
  name       = "cloud-builds"
  labels     = var.labels
  depends_on = [google_project_service.apis]
}

resource "google_service_account" "deploys" {
  project      = var.project_id
  account_id   = "binderops-deploys"
  display_name = "binderops github_webhook and deploy_status"
  depends_on   = [google_project_service.apis]
}

# Run the deploy trigger and read builds (to find them by tag): nothing else in Cloud Build.
# Cloud Build has no trigger-level IAM, so the narrowest grant is a project role holding
# exactly these permissions (the predefined builds.editor would also cancel and update).
resource "google_project_iam_custom_role" "deploys" {
  count       = var.cloudbuild_trigger == "" ? 0 : 1
  project     = var.project_id
  role_id     = "binderopsDeployer"
  title       = "binderops deployer"
  description = "Run a Cloud Build trigger and read builds: what github_webhook and deploy_status use."
  permissions = ["cloudbuild.builds.create", "cloudbuild.builds.get", "cloudbuild.builds.list"]
  depends_on  = [google_project_service.apis]
}

resource "google_project_iam_member" "deploys_run_builds" {
  count   = var.cloudbuild_trigger == "" ? 0 : 1
  project = var.project_id
  role    = google_project_iam_custom_role.deploys[0].id
  member  = "serviceAccount:${google_service_account.deploys.email}"
}

# What trials of pull requests from forks build as: an account holding no role, no secret and
# no production credential. Set it as the service account of the trial trigger
# (var.cloudbuild_trial_trigger); grant it only what a staging trial needs, never production.
resource "google_service_account" "trial_builds" {
  project      = var.project_id
  account_id   = "binderops-trial-builds"
  display_name = "binderops trials of pull requests from forks (no production credentials)"
  depends_on   = [google_project_service.apis]
}

# Running the trial trigger, which builds as trial_builds, requires acting as it.
resource "google_service_account_iam_member" "deploys_act_as_trial_builder" {
  count              = var.cloudbuild_trial_trigger == "" ? 0 : 1
  service_account_id = google_service_account.trial_builds.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deploys.email}"
}

# Running a trigger that builds as a user-managed service account requires acting as it.
resource "google_service_account_iam_member" "deploys_act_as_builder" {
  count              = var.cloudbuild_service_account == "" ? 0 : 1
  service_account_id = "projects/${var.project_id}/serviceAccounts/${var.cloudbuild_service_account}"
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.deploys.email}"
}

# Record finished deploys: the deployments table only.
resource "google_bigquery_table_iam_member" "deploys_write_deployments" {
  project    = var.project_id
  dataset_id = google_bigquery_table.tables["deployments"].dataset_id
  table_id   = google_bigquery_table.tables["deployments"].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.deploys.email}"
}
