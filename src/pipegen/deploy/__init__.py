"""What the deploy kinds' jobs run (`pipegen deploy ...`): the Airflow DAG folder sync, the
Terraform plan's seal and its check before apply, and the Kubernetes render, apply and
rollback. The plan side of each kind lives in `pipegen.plan.deploy`."""

# Beside a saved Terraform plan, its seal (`pipegen deploy terraform seal`): the plan side names
# it among the files a job hands over, without importing the deploy commands.
SEAL_SUFFIX = ".pipegen.json"
