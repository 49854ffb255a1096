"""Azure Pipelines: what pipegen writes (`backend`), reads back (`reader`), and where Azure forces
a difference from the plan (`differences`)."""
