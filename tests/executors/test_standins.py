"""The test fixtures the executor tests rely on behave as documented (a stand-in that lies would let
a broken pipeline pass)."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

from .plugin import environment_without

DIGEST_FORMAT = "{{index .RepoDigests 0}}"


def run(standin_bin: Path, cwd: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**environment_without("SONAR_TOKEN", "SONAR_HOST_URL"), **env,
                   "PATH": f"{standin_bin}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(list(argv), cwd=cwd, env=environment, capture_output=True, text=True, check=False)


def test_docker_records_builds_and_inspects_only_what_it_built(standin_bin: Path, tmp_path: Path) -> None:
    log = tmp_path / "docker.log"
    image = "registry.example.test:5000/team/churn-model:0123456789ab"
    missing = run(standin_bin, tmp_path, "docker", "inspect", "--format", DIGEST_FORMAT, image,
                  PIPEGEN_TEST_DOCKER_LOG=str(log))
    assert missing.returncode == 1 and "No such object" in missing.stderr

    assert run(standin_bin, tmp_path, "docker", "build", "--file", "Dockerfile", "--tag", image, ".",
               PIPEGEN_TEST_DOCKER_LOG=str(log)).returncode == 0
    assert run(standin_bin, tmp_path, "docker", "push", image, PIPEGEN_TEST_DOCKER_LOG=str(log)).returncode == 0
    inspected = run(standin_bin, tmp_path, "docker", "inspect", "--format", DIGEST_FORMAT, image,
                    PIPEGEN_TEST_DOCKER_LOG=str(log))
    assert inspected.returncode == 0, inspected.stderr
    expected = f"registry.example.test:5000/team/churn-model@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
    assert inspected.stdout.strip() == expected
    assert [json.loads(line)[0] for line in log.read_text().splitlines()] == ["build", "push"]
    assert run(standin_bin, tmp_path, "docker", "run", image, PIPEGEN_TEST_DOCKER_LOG=str(log)).returncode == 125


def test_pysonar_submits_and_leaves_the_report_task_the_gate_reads(standin_bin: Path, tmp_path: Path,
                                                                   sonar_server) -> None:
    scanned = run(standin_bin, tmp_path, "pysonar", f"--sonar-host-url={sonar_server.url}",
                  "--sonar-project-key=churn-model", "-Dsonar.python.coverage.reportPaths=coverage.xml",
                  SONAR_TOKEN="squ_token")
    assert scanned.returncode == 0, scanned.stderr
    task = dict(line.split("=", 1) for line in (tmp_path / ".scannerwork" / "report-task.txt").read_text().splitlines())
    assert task["serverUrl"] == sonar_server.url and task["projectKey"] == "churn-model"
    assert re.fullmatch(rf"{re.escape(sonar_server.url)}/api/ce/task\?id={task['ceTaskId']}", task["ceTaskUrl"])
    (submission,) = sonar_server.submissions()
    assert submission["query"]["projectKey"] == ["churn-model"]
    assert submission["query"]["sonar.python.coverage.reportPaths"] == ["coverage.xml"]
    assert submission["authorization"] is not None


def test_wheelhouse_holds_this_checkouts_wheel(wheelhouse) -> None:
    from pipegen import __version__

    assert wheelhouse.pipegen_wheel.name.endswith(f"-{__version__}-py3-none-any.whl")
    assert wheelhouse.find_links.split()[0] == str(wheelhouse.path)


def test_example_repo_has_main_on_its_origin(example_repo) -> None:
    repo = example_repo("minimal")
    assert (repo.root / ".gitlab-ci.yml").is_file() and (repo.root / "pipegen.yaml").is_file()
    assert repo.git("rev-parse", "origin/main") == repo.head
    sha = repo.push_change("a feature", {"NOTES.md": "notes\n"}, branch="feature")
    assert repo.git("ls-remote", "origin", "refs/heads/feature").split()[0] == sha
    assert repo.git("rev-parse", "origin/main") != sha
