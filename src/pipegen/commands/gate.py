"""`pipegen gate coverage|lint|sonar|model|drift|dags|terraform`: each gate is its own module, imported on use."""
from __future__ import annotations

import click

from pipegen.cli import LazyGroup

GATES = {
    "coverage": ("pipegen.commands.gate_coverage:command", "Line/branch coverage and coverage of changed lines."),
    "lint": ("pipegen.commands.gate_lint:command", "pylint score and flake8 issue count."),
    "sonar": ("pipegen.commands.gate_sonar:command", "SonarQube/SonarCloud quality gate of this analysis."),
    "model": ("pipegen.commands.gate_model:command", "Candidate MLflow model version against the champion."),
    "drift": ("pipegen.commands.gate_drift:command", "Per-feature data drift (KS / chi-squared), corrected."),
    "dags": ("pipegen.commands.gate_dags:command", "Airflow DAG integrity: imports, cycles, unique ids, rules."),
    "terraform": ("pipegen.commands.gate_terraform:command", "A saved Terraform plan's summary; destroys flagged."),
}


@click.group("gate", cls=LazyGroup, lazy_commands=GATES)
def group() -> None:
    """Quality gates: exit 0 pass, 1 fail, 2 bad usage, 3 could not evaluate (fails closed)."""
