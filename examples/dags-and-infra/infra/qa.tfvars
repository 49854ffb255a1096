environment           = "qa"
report_retention_days = 7
