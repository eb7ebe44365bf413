# A federation's own copy of binderops: `terraform init && terraform apply -var project_id=...`.

variable "project_id" {
  type        = string
  description = "The Google Cloud project to run binderops in."
}

module "binderops" {
  source         = "../.."
  project_id     = var.project_id
  region         = "us-central1"
  dataset_id     = "binder_launches"
  default_origin = "mybinder.org"
  billing_table  = "binder-billing.billing_export.gcp_billing_export_v1_012345_6789AB_CDEF01"
  cost_timezone  = "America/Los_Angeles"
  labels         = { service = "binderops" }
}

output "warehouse_url" {
  value = module.binderops.warehouse_url
}
