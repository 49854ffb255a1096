"""`pipegen doctor`: asks each platform's REST API whether the settings the plan's set-up
checklist names (secrets and variables by name, environments and their approvals, branch
rules, credentials ids) are in place and at least as strict as the plan.

One module per platform behind `base.PlatformDoctor`, listed in `registry`; every request
read-only, through pipegen.http_client (`api`); one result type (`findings`). Only names and
flags are ever asked for, never a secret's value. Nothing is imported here, so `pipegen
doctor --help` reads `scopes` without loading requests."""
