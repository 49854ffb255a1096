"""`pipegen gate dags`: a DAG folder loaded with real Airflow must import cleanly and keep the rules."""
from __future__ import annotations

import tempfile
from pathlib import Path

import click

from pipegen.commands._gate_common import with_gate_options
from pipegen.gates.result import GateResult


@click.command("dags")
@click.option("--dags", "folder", default="dags", show_default=True,
              help="The DAG folder: a path, or a deployed gs:// or s3:// folder (copied here first with the "
                   "cloud's CLI).")
@click.option("--python", default="python", show_default=True,
              help="The Python with apache-airflow and the DAGs' providers (the job's own).")
@click.option("--require-owner", is_flag=True, help="Every task names an owner other than 'airflow'.")
@click.option("--require-tags", is_flag=True, help="Every DAG has at least one tag.")
@click.option("--min-retries", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Every task retries at least this often.")
@click.option("--allow-catchup-without-start-date", is_flag=True,
              help="Do not refuse catchup=True without a start_date.")
@with_gate_options
def gate_dags(*, descriptor: Path | None, folder: str, python: str, require_owner: bool, require_tags: bool,
              min_retries: int, allow_catchup_without_start_date: bool) -> GateResult:
    """Load every file of a DAG folder with Airflow's DagBag (in the job's Python): import
    errors, cycles and duplicate dag_ids fail, and so does a broken rule.

    Exit 0 pass, 1 failed, 2 bad usage, 3 Airflow could not load the folder."""
    del descriptor  # the rules come as flags: the pipeline carries them from the descriptor
    # pylint: disable=import-outside-toplevel  # each gate imports its own machinery on use
    from pipegen.deploy.airflow import bucket_scheme, fetch
    from pipegen.gates import dags

    rules = dags.Rules(owner=require_owner, tags=require_tags, min_retries=min_retries,
                       catchup_needs_start_date=not allow_catchup_without_start_date)
    if bucket_scheme(folder) is None:
        return dags.evaluate(Path(folder), rules, python)
    with tempfile.TemporaryDirectory(prefix="pipegen-deployed-dags-") as scratch:
        return dags.evaluate(fetch(folder, Path(scratch)), rules, python, shown=folder)


command = gate_dags
