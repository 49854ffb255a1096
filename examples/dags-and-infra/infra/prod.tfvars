environment           = "prod"
report_retention_days = 90
