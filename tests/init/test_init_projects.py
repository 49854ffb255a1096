"""`pipegen init` in a repository of several Python projects: the multi-project descriptor, each folder detected
as a repository of its own would be, dependencies read from the requirements files; one project stays one."""
from __future__ import annotations

import shutil
from pathlib import Path

from helpers import make_repo, run_pipegen
from pipegen.descriptor.loader import read_any
from pipegen.descriptor.projects import ProjectSet
from pipegen.init.projects import project_folders, project_key
from pipegen.plan.projects import build_projects_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "monorepo"


def monorepo(tmp_path: Path, remote: str = "https://gitlab.com/acme/mono.git") -> Path:
    root = make_repo(tmp_path / "repo", remotes={"origin": remote})
    for folder in ("libs", "models", "services"):
        shutil.copytree(EXAMPLE / folder, root / folder)
    (root / "services" / "scoring" / "Dockerfile").write_text("FROM python:3.11-slim\n", encoding="utf-8")
    (root / "services" / "frontend").mkdir()
    (root / "services" / "frontend" / "package.json").write_text("{}\n", encoding="utf-8")
    return root


def test_init_declares_each_project_folder(tmp_path: Path, capsys) -> None:
    root = monorepo(tmp_path)
    result = run_pipegen(capsys, "init", "--path", str(root), "--no-measure")
    assert result.exit_code == 0, result.out + result.err
    parsed = read_any(root / "pipegen.yaml")
    assert isinstance(parsed, ProjectSet)
    assert {entry.name: (entry.folder, entry.depends_on) for entry in parsed.projects} == {
        "features": ("libs/features", ()), "churn": ("models/churn", ("features",)),
        "fraud": ("models/fraud", ("features",)), "scoring": ("services/scoring", ("features",))}
    churn = parsed.project("churn").descriptor
    assert (churn.project.requirements.test, churn.tests.unit, churn.project.source) == (
        "requirements-test.txt", "tests/unit", ("src/churn",))
    assert parsed.project("scoring").descriptor.image.dockerfile == "Dockerfile"
    assert parsed.first.targets == ("gitlab",)
    plan = build_projects_plan(parsed)
    assert {"features-unit", "churn-unit", "scoring-build"} <= {job.id for job in plan.jobs}
    assert "project      churn in models/churn" in result.out


def test_every_target_holds_several_projects(tmp_path: Path, capsys) -> None:
    root = monorepo(tmp_path, remote="https://dev.azure.com/acme/mono/_git/mono")
    result = run_pipegen(capsys, "init", "--path", str(root), "--no-measure", "--target", "azure",
                         "--target", "gitlab")
    assert result.exit_code == 0, result.err
    assert read_any(root / "pipegen.yaml").first.targets == ("gitlab", "azure")
    assert "cannot hold" not in (root / "pipegen.yaml").read_text(encoding="utf-8")


def test_one_project_folder_or_a_project_at_the_root_is_one_project(tmp_path: Path) -> None:
    root = monorepo(tmp_path)
    assert project_folders(root) == ("libs/features", "models/churn", "models/fraud", "services/scoring")
    (root / "pyproject.toml").write_text("[project]\nname = 'top'\n", encoding="utf-8")
    assert project_folders(root) == ()
    single = make_repo(tmp_path / "single")
    shutil.copytree(EXAMPLE / "libs", single / "libs")
    assert project_folders(single) == ()


def test_project_keys_are_valid_and_unique() -> None:
    assert (project_key("apps/Web_API", set()), project_key("libs/2fa", set())) == ("web-api", "fa")
    assert project_key("other/web-api", {"web-api"}) == "web-api-2"
