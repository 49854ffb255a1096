"""The daily report: extract yesterday's orders, then publish the report."""
import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(
    "daily_report",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule="@daily",
    catchup=False,
    tags=["reporting"],
    default_args={"owner": "data-platform", "retries": 2},
):
    EmptyOperator(task_id="extract_orders") >> EmptyOperator(task_id="publish_report")
