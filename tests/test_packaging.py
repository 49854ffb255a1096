"""Installed from a built wheel, pipegen still finds its templates and gate profiles;
`pipegen --help` and `generate` stay free of heavy imports."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

HEAVY = ("mlflow", "requests", "git", "diff_cover", "urllib3", "scipy", "numpy")
PROBE = """
import json, sys
from pipegen.cli import main
sys.argv = ["pipegen", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(name for name in {heavy} if name in sys.modules)))
"""


def _loaded_heavy_modules(args: list[str], cwd: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    probe = PROBE.replace("{heavy}", repr(heavy))
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(args)], cwd=cwd, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    assert _loaded_heavy_modules(["--help"], tmp_path) == []
    assert _loaded_heavy_modules(["gate", "--help"], tmp_path) == []
    # scipy belongs to the drift gate alone (the pipegen-ci[drift] extra), requests to posting
    assert _loaded_heavy_modules(["gate", "drift", "--help"], tmp_path) == []
    assert _loaded_heavy_modules(["report", "comment", "--help"], tmp_path) == []
    assert _loaded_heavy_modules(["doctor", "--help"], tmp_path) == []  # requests only when doctor asks an API


def test_generate_imports_nothing_heavy(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "churn" / "pipegen.yaml", tmp_path / "pipegen.yaml")
    assert _loaded_heavy_modules(["generate", "--quiet"], tmp_path) == []
    assert (tmp_path / ".github" / "workflows" / "pipegen.yml").is_file()
    assert (tmp_path / "Jenkinsfile").is_file()


def test_generate_loads_no_process_or_failure_machinery(tmp_path: Path) -> None:
    """generate starts no process and, when it succeeds, prints nothing to scrub: subprocess, the
    deploy commands and the scrubber are imported where they are used (a tenth of its start-up)."""
    shutil.copy(EXAMPLES / "churn" / "pipegen.yaml", tmp_path / "pipegen.yaml")
    unused = ("subprocess", "pipegen.scrub", "pipegen.deploy.terraform")
    assert _loaded_heavy_modules(["generate", "--quiet"], tmp_path, unused) == []
    # and a failure is still scrubbed: an option's value that is a known secret is not printed back
    token = "ghp_" + "a1B2" * 9
    done = subprocess.run([sys.executable, "-m", "pipegen", "generate", "--target", token], cwd=tmp_path,
                          env={**os.environ, "GITHUB_TOKEN": token}, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr and token not in done.stderr + done.stdout


@pytest.mark.slow
def test_wheel_install_generates(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, text=True)
    wheel = next(wheels.glob("pipegen_ci-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                   check=True, capture_output=True, text=True)
    project = tmp_path / "project"
    project.mkdir()
    reference = (EXAMPLES / "churn" / "pipegen.yaml").read_text(encoding="utf-8")
    (project / "pipegen.yaml").write_text(reference.replace("profile: default", "profile: strict"), encoding="utf-8")
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE")}
    done = subprocess.run([str(env_dir / "bin" / "pipegen"), "generate", "--quiet"], cwd=project, env=clean_env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    written = sorted(str(path.relative_to(project)) for path in project.rglob("*") if path.is_file())
    assert written == [".github/workflows/pipegen.yml", ".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml",
                       "pipegen.yaml"]
    # the installed copy found the same templates: its output equals the source tree's
    source = subprocess.run([sys.executable, "-m", "pipegen", "check"], cwd=project, capture_output=True, text=True,
                            check=False)
    assert source.returncode == 0, source.stdout + source.stderr
    # and the shipped gate profiles: an unknown one is refused, listing what the wheel ships
    (project / "pipegen.yaml").write_text((project / "pipegen.yaml").read_text().replace("strict", "nosuch"))
    refused = subprocess.run([str(env_dir / "bin" / "pipegen"), "validate"], cwd=project, capture_output=True,
                             text=True, check=False, env=clean_env)
    assert refused.returncode == 2
    assert "default" in refused.stderr and "strict" in refused.stderr
