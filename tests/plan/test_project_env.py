"""The project's environment and pipegen's: what each job installs (the project, its test
tools, the chosen linters) and that pipegen lives in a venv of its own. The install commands
of a job for a Python older than pipegen's minimum are executed for real."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import plan_from_yaml

BASE = """\
version: 1
project: {name: lib, python: "3.11", source: [src/lib, src/plugins]}
targets: [gitlab]
tests: {unit: tests/unit, integration: tests/integration, functional: tests/e2e}
"""


def _python_39() -> str | None:
    """A Python 3.9 that runs (a pyenv shim on PATH may name a version that is not selected)."""
    candidates = [shutil.which("python3.9"),
                  *sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


PYTHON_39 = _python_39()


def step(job, title_start: str) -> str:
    return next(step.run for step in job.steps if step.title.startswith(title_start))


def test_every_test_job_installs_pytest_coverage_and_the_package(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'lib'\n", encoding="utf-8")
    plan = plan_from_yaml(BASE, str(tmp_path / "pipegen.yaml"))
    for level in ("unit", "integration", "functional"):
        job = plan.job(level)
        assert any(package.startswith("pytest") for package in job.pip_packages)
        assert any(package.startswith("coverage") for package in job.pip_packages)
        assert job.editable and job.project_install == ()
        assert any(line.endswith(" -e .") for line in job.install_commands())
        assert "--source=src/lib,src/plugins" in step(job, level.capitalize())
    # Not a package (no packaging metadata next to the descriptor): nothing beyond the requirements.
    unit = plan_from_yaml(BASE, str(tmp_path / "elsewhere" / "pipegen.yaml")).job("unit")
    assert not unit.editable and not any(" -e " in line for line in unit.install_commands())


def test_coverage_is_combined_over_every_level_and_gated_after_the_last():
    plan = plan_from_yaml(BASE + "quality: {coverage: {min: 80, diff_min: 90}}\n")
    unit, last = plan.job("unit"), plan.job("functional")
    assert unit.gate is None and unit.hands_over == ("pipegen-coverage/unit.coverage",)
    assert last.gate == "coverage" and set(last.fetches) == {"unit", "integration"}
    combine = step(last, "Coverage of all levels")
    assert all(f"pipegen-coverage/{level}.coverage" in combine for level in ("unit", "integration", "functional"))
    gate = step(last, "Coverage gate").split()
    assert gate[gate.index("--min") + 1] == "80" and gate[gate.index("--diff-min") + 1] == "90"
    assert last.full_history and not unit.full_history  # only the gate diffs against the compare branch


def test_project_install_as_written_replaces_the_default():
    plan = plan_from_yaml(BASE.replace("source: [src/lib, src/plugins]}",
                                       "source: src/lib, install: [\"poetry install --with test\", \"make deps\"]}")
                          + "quality: {}\n")
    assert plan.job("unit").project_install == ("poetry install --with test", "make deps")
    assert plan.job("lint").project_install == ("poetry install --with test", "make deps")
    assert plan.job("unit").cache_files == ("poetry.lock",)
    for job_id in ("unit", "lint"):  # after the requirements and tools, as written, whatever the installer
        commands = list(plan.job(job_id).install_commands())
        project = commands.index("poetry install --with test")
        assert commands[project + 1] == "make deps"
        assert any('"$uv" pip install --python python ' in line for line in commands[:project])


@pytest.mark.parametrize("quality, tools, flags", [
    ("{}", ("pylint", "flake8"), {"--min-score": "8", "--max-issues": "0"}),
    ("{lint: [ruff]}", ("ruff",), {"--max-ruff-issues": "0"}),
    ("{ruff: {max_issues: 3}, pylint: null}", ("ruff", "flake8"), {"--max-ruff-issues": "3", "--max-issues": "0"}),
    ("{lint: {tools: [ruff, pylint], ratchet: [changed-lines]}}", ("ruff", "pylint"), {"--changed-lines": None}),
])
def test_lint_job_runs_the_chosen_linters_with_reports_the_gate_parses(quality, tools, flags):
    job = plan_from_yaml(BASE + f"quality: {quality}\n").job("lint")
    ran = [tool for tool in ("ruff", "pylint", "flake8") if any(f"python -m {tool} " in s.run for s in job.steps)]
    assert tuple(ran) == tools
    assert {package.split(">")[0] for package in job.pip_packages} == set(tools)
    gate = step(job, "Lint gate").split()
    for flag, value in flags.items():
        assert flag in gate and (value is None or gate[gate.index(flag) + 1] == value)
    for tool, forced in (("ruff", "--output-format=json"), ("pylint", "--output-format=json2"),
                         ("flake8", "--format=pipegen-flake8:"), ("flake8", "--no-show-source")):
        if tool in tools:  # whatever the repository's own settings (flake8 `format = wemake`)
            assert forced in step(job, tool)


def test_lint_false_and_null_sections_switch_checks_off():
    assert "lint" not in {job.id for job in plan_from_yaml(BASE + "quality: {lint: false}\n").jobs}
    plan = plan_from_yaml(BASE + "quality: {pylint: null, flake8: null, coverage: null}\n")
    assert "lint" not in {job.id for job in plan.jobs}
    assert plan.job("functional").gate is None


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@pipegen.invalid", "-c",
                           "commit.gpgsign=false", *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("where", ["origin", "local"])
def test_compare_branch_ratchet_lints_the_branch_in_a_worktree(tmp_path: Path, where: str):
    """The baseline step, executed: it lints origin/develop, or the local develop in a repository
    without a remote (the same lookup as the gates), not the change."""
    job = plan_from_yaml(BASE + "quality: {lint: {tools: [flake8], ratchet: [compare-branch], "
                                "compare_branch: origin/develop}}\n").job("lint")
    assert job.full_history and job.compare_branch == "origin/develop"
    gate = step(job, "Lint gate").split()
    assert "--baseline" in gate and gate[gate.index("--baseline") + 1] == "flake8=pipegen-reports/base-flake8.txt"
    root = tmp_path / "repo"
    (root / "src" / "lib").mkdir(parents=True)
    (root / "src" / "plugins").mkdir()
    _git(tmp_path, "init", "--quiet", "--initial-branch=develop", str(root))
    (root / "src" / "lib" / "core.py").write_text("import os\n", encoding="utf-8")  # F401: one issue on develop
    _git(root, "add", ".")
    _git(root, "commit", "--quiet", "-m", "develop")
    if where == "origin":
        _git(tmp_path, "clone", "--quiet", str(root), str(tmp_path / "clone"))
        root = tmp_path / "clone"
        _git(root, "checkout", "--quiet", "-b", "feature")
        _git(root, "branch", "--quiet", "-D", "develop")  # a CI checkout: only origin's branch
    else:
        _git(root, "checkout", "--quiet", "-b", "feature")
    (root / "src" / "lib" / "core.py").write_text("import os\nimport sys\n", encoding="utf-8")  # and a second
    (root / "pipegen-reports").mkdir()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", "set -euo pipefail\n" + step(job, "The same linters on origin/develop")],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    baseline = (root / "pipegen-reports" / "base-flake8.txt").read_text(encoding="utf-8")
    assert baseline.count("F401") == 1, baseline  # develop's one issue, not the change's two


@pytest.mark.parametrize("installer, project_pip, pipegen_pip", [
    ("uv", '"$uv" pip install --python python', '"$uv" pip install --quiet --python "$pipegen_home/venv/bin/python"'),
    ("pip", "python -m pip install", '"$pipegen_home/venv/bin/python" -m pip install'),
])
def test_pipegen_is_installed_in_its_own_venv_never_the_projects(installer, project_pip, pipegen_pip):
    job = plan_from_yaml(BASE + f"quality: {{coverage: {{min: 1}}}}\nsettings: {{installer: {installer}}}\n"
                         ).job("functional")
    commands = job.install_commands()
    project = [command for command in commands if command.startswith(project_pip)]
    assert project and all("pipegen-ci" not in command for command in project)
    assert any(command.startswith(pipegen_pip) and "pipegen-ci" in command for command in commands)
    assert commands[-1].startswith('ln -sf "$pipegen_home/venv/bin/pipegen"')


@pytest.mark.slow
@pytest.mark.skipif(PYTHON_39 is None, reason="needs a Python 3.9 for the project")
def test_a_python_39_project_gets_pipegen_from_a_newer_python(tmp_path: Path, wheelhouse):
    """The job's Python is 3.9 (older than pipegen supports): uv makes pipegen's venv with a
    newer interpreter, and `pipegen` runs from the job's PATH while `python` stays 3.9."""
    (tmp_path / "pyproject.toml").write_text(
        "[build-system]\nrequires = ['setuptools>=61']\nbuild-backend = 'setuptools.build_meta'\n"
        "[project]\nname = 'old-lib'\nversion = '1'\n[tool.setuptools]\npy-modules = ['old_lib']\n", encoding="utf-8")
    (tmp_path / "old_lib.py").write_text("VALUE = 1\n", encoding="utf-8")
    job = plan_from_yaml(BASE.replace('"3.11"', '"3.9"') + "quality: {coverage: {min: 1}}\n",
                         str(tmp_path / "pipegen.yaml")).job("functional")
    assert job.pipegen_needs_python
    project_env = tmp_path / "project-env"
    subprocess.run([PYTHON_39, "-m", "venv", str(project_env)], check=True)
    script = "\n".join(["set -euo pipefail", *[c for c in job.install_commands() if "pytest" not in c],
                        "python --version", "python -c 'import old_lib'", "pipegen --version",
                        "command -v pipegen"])
    env = {**os.environ, "PATH": f"{project_env / 'bin'}:{os.environ['PATH']}", "VIRTUAL_ENV": str(project_env),
           "PIP_FIND_LINKS": wheelhouse.find_links, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Python 3.9." in done.stdout
    assert done.stdout.strip().splitlines()[-1] == str(project_env / "bin" / "pipegen")
    # pipegen's own dependencies are not in the project's environment.
    assert subprocess.run([str(project_env / "bin" / "python"), "-c", "import jinja2"],
                          capture_output=True, check=False).returncode != 0
