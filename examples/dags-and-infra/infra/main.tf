# The report's infrastructure. `terraform_data` stands for the resources a team would declare
# (a bucket, a warehouse dataset): it needs no provider, so the example plans and applies offline.
terraform {
  required_version = ">= 1.4"
  backend "local" {}
}

variable "environment" {
  type = string
}

variable "report_retention_days" {
  type = number
}

resource "terraform_data" "report_store" {
  input = {
    name           = "daily-report-${var.environment}"
    retention_days = var.report_retention_days
  }
}

output "report_store" {
  value = terraform_data.report_store.output.name
}
