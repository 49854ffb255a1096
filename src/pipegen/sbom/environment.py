"""A CycloneDX SBOM of a Python environment, written by CycloneDX's own generator (`cyclonedx-py
environment`, from the `sbom` extra) and checked against the CycloneDX JSON schema before it is
kept: a file that is not a valid SBOM fails the job instead of being archived as one.

The environment is the job's Python (the one on PATH in the job, where the build job installed the
project's runtime requirements), never pipegen's own venv, where the generator runs."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError
from pipegen.sbom.schema import SPEC_VERSION, checked_document

DEFAULT_OUTPUT = "pipegen-reports/sbom/python-environment.cdx.json"


def job_python() -> str:
    """The job's interpreter: the first python3 (else python) on PATH."""
    found = shutil.which("python3") or shutil.which("python")
    if found is None:
        raise UsageError("no python3 or python on PATH: name the environment's interpreter with --python")
    return found


def generate(python: str, output: Path) -> None:
    """Run `cyclonedx-py environment PYTHON` (reproducible output: no timestamp or serial number
    unless SOURCE_DATE_EPOCH gives one) into `output`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cyclonedx_py", "environment", "--sv", SPEC_VERSION, "--of", "JSON",
               "--output-reproducible", "--mc-type", "application", "-o", str(output), python]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    except subprocess.TimeoutExpired:
        raise EvaluationError("cyclonedx-py did not finish within 10 minutes") from None
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        if "No module named cyclonedx_py" in done.stderr:
            raise EvaluationError("cyclonedx-py is not installed beside pipegen: install pipegen-ci[sbom]")
        raise EvaluationError(f"cyclonedx-py failed for {python}: {reason[-1] if reason else done.returncode}")


def write(python: str, output: Path) -> int:
    """Write and check the SBOM; the number of components it lists."""
    generate(python, output)
    return len(checked_document(output).get("components") or [])
