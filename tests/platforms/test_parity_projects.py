"""Parity with several projects: each platform's file of a `projects:` descriptor, read back, does what the plan
says (GitLab and Jenkins select each project's jobs natively, so their files hold no `changes` job), and each job
read back names its project."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipegen.descriptor.loader import read_any
from pipegen.plan.projects import build_projects_plan
from pipegen.platforms import get_backend, parity
from pipegen.platforms import readback as rb
from pipegen.platforms.readers import read_back
from projects_descriptor import MODELS, REPORTED

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["committed example", "models and environments", "gate reports"])
def plan_and_texts(request, tmp_path: Path):
    if request.param == "committed example":
        folder = ROOT / "examples" / "monorepo"
        plan = build_projects_plan(read_any(folder / "pipegen.yaml"))
        return plan, {target: (folder / get_backend(target).path).read_text(encoding="utf-8")
                      for target in plan.targets}
    (tmp_path / "pipegen.yaml").write_text(MODELS if request.param == "models and environments" else REPORTED,
                                           encoding="utf-8")
    plan = build_projects_plan(read_any(tmp_path / "pipegen.yaml"))
    return plan, {target: get_backend(target).render(plan) for target in plan.targets}


def test_each_platform_does_what_the_plan_says(plan_and_texts) -> None:
    plan, texts = plan_and_texts
    release = rb.release_branch(plan)
    protected = frozenset(name for name, approval in plan.environments if approval is not None)
    for target, text in texts.items():
        view = read_back(target, text, release, protected)
        assert parity.compare(rb.from_plan(plan, target), view) == [], target
        assert {job.id: job.project for job in view.jobs.values() if job.project} == {
            job.id: job.project for job in plan.jobs if job.project and job.id in view.jobs}
        assert ("changes" in view.jobs) is (target in ("github", "azure"))
        if target == "jenkins":  # a stage's changeset is known once a stage checked out: pipegen-check first
            assert all("pipegen-check" in job.after for job in view.jobs.values() if job.project), target
