"""What the deploy kinds' jobs run (`pipegen deploy ...`): the Airflow DAG folder sync, the
Terraform plan's seal and its check before apply, and the Kubernetes render, apply and
rollback. The plan side of each kind lives in `pipegen.plan.deploy`."""
