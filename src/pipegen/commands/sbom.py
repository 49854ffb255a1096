"""`pipegen sbom environment`: the build job's CycloneDX SBOM of its Python environment."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.sbom import environment


@click.group("sbom")
def group() -> None:
    """Software bills of materials (CycloneDX) of what the pipeline builds."""


@group.command("environment")
@click.option("--python", "python", default=None, metavar="PATH",
              help="The environment's interpreter (default: python3, else python, on PATH: the job's).")
@click.option("--output", "output", type=click.Path(path_type=Path), default=Path(environment.DEFAULT_OUTPUT),
              show_default=True, help="Where the SBOM (CycloneDX JSON) goes.")
def environment_command(python: str | None, output: Path) -> None:
    """Write a CycloneDX SBOM of a Python environment with cyclonedx-py (every installed distribution,
    its version, licence and package URL), check it against the CycloneDX schema, and keep it with the
    run's reports. Needs pipegen-ci[sbom]. Exit 1 when the result is not a valid SBOM, 3 when it could
    not be made."""
    interpreter = python or environment.job_python()
    count = environment.write(interpreter, output)
    click.echo(f"pipegen: SBOM of {interpreter}'s environment: {count} components, CycloneDX "
               f"{environment.SPEC_VERSION}, valid -> {output}")
