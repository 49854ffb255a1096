"""`pipegen sbom environment` and `pipegen sbom image`: the build job's CycloneDX SBOMs of its Python
environment and of the image it built."""
from __future__ import annotations

from pathlib import Path

import click

from pipegen.sbom import environment, image


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


@group.command("image")
@click.argument("source")
@click.option("--image-ref", "image_ref", default=None, metavar="NAME@sha256:DIGEST",
              help="The image's reference by digest, which the SBOM names as what it describes (default: SOURCE's).")
@click.option("--output", "output", type=click.Path(path_type=Path), default=Path(image.DEFAULT_OUTPUT),
              show_default=True, help="Where the SBOM (CycloneDX JSON) goes.")
def image_command(source: str, image_ref: str | None, output: Path) -> None:
    """Write a CycloneDX SBOM of what an image contains with Syft (operating-system packages, Python
    distributions and more), check it against the CycloneDX schema, and keep it with the run's reports.
    SOURCE is any Syft source: `docker-archive:FILE` (from `docker save`), `oci-dir:DIR`,
    `registry:NAME@DIGEST`, `dir:DIR`. Needs pipegen-ci[sbom]. Exit 1 when the result is not a valid SBOM,
    2 for a malformed --image-ref, 3 when it could not be made."""
    kinds = image.write(source, output, image_ref)
    counted = ", ".join(f"{count} {kind}" for kind, count in kinds.items()) or "no packages"
    click.echo(f"pipegen: SBOM of {image_ref or source}: {counted}; CycloneDX {image.SPEC_VERSION}, valid -> {output}")
