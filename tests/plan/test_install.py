"""The installer changes how fast a job's environment fills, never what is in it: the same job's
install lines, run for real under `settings.installer: uv` and `pip`, leave the same distributions
at the same versions (`pip freeze`)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.plan import build_plan
from pipegen.plan.install import INSTALLER_PIP, INSTALLER_UV
from pipegen.run.commands import SHELL_PREAMBLE, install_script
from pipegen.run.venv import bin_dir, find_uv

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal"


def _job_environment(tmp_path: Path, installer: str) -> Path:
    """The example's unit job installed as the platforms install it, into a fresh venv (what `pipegen
    run` and a CI runner give the job), with the descriptor's installer set to `installer`."""
    project = tmp_path / installer / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", ".venv"))
    descriptor = project / "pipegen.yaml"
    descriptor.write_text(descriptor.read_text(encoding="utf-8") + f"settings: {{installer: {installer}}}\n",
                          encoding="utf-8")
    job = build_plan(load_descriptor(descriptor)).job("unit")
    assert job.installer == installer
    venv = tmp_path / installer / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # uv as a runner has it on PATH (GitHub's setup-uv, `pipegen run`): only uv, not the test Python's tools.
    tools = tmp_path / installer / "tools"
    tools.mkdir()
    uv = find_uv(os.environ)
    assert uv, "the test extra installs uv"
    (tools / "uv").symlink_to(uv)
    env = {**os.environ, "VIRTUAL_ENV": str(venv),
           "PATH": os.pathsep.join((str(bin_dir(venv)), str(tools), os.environ.get("PATH", os.defpath)))}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", "-c", f"{SHELL_PREAMBLE}\n{install_script(job)}\n"], cwd=project, env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return venv


def _freeze(venv: Path) -> tuple[set[str], set[str]]:
    """(name==version of every installed distribution but editable ones, the editable ones' names)."""
    python = str(bin_dir(venv) / "python")
    frozen = subprocess.run([python, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True,
                            check=True).stdout
    editable = subprocess.run([python, "-m", "pip", "list", "--editable", "--format=json"], capture_output=True,
                              text=True, check=True).stdout
    return ({line.strip().lower() for line in frozen.splitlines() if line.strip() and not line.startswith("#")},
            {item["name"].lower() for item in json.loads(editable)})


@pytest.mark.slow
def test_uv_and_pip_fill_a_job_environment_with_the_same_versions(tmp_path: Path) -> None:
    with_uv, with_pip = (_freeze(_job_environment(tmp_path, installer)) for installer in (INSTALLER_UV, INSTALLER_PIP))
    assert with_uv == with_pip
    packages, editable = with_uv
    # Something was resolved: the tools the job asks for, their dependencies, and the project, editable.
    assert {line.split("==")[0] for line in packages} >= {"pytest", "coverage", "pluggy"}
    assert editable == {"textstats"}
