"""The platforms doctor knows, and the run over a checklist's targets."""
from __future__ import annotations

from typing import Mapping

from pipegen import scrub

from pipegen.descriptor.model import Descriptor
from pipegen.doctor.azure import AzureDoctor
from pipegen.doctor.base import PlatformDoctor, checkable, first_set
from pipegen.doctor.findings import PlatformReport
from pipegen.doctor.github import GithubDoctor
from pipegen.doctor.gitlab import GitlabDoctor
from pipegen.doctor.jenkins import JenkinsDoctor
from pipegen.doctor.scopes import PLACES, Place
from pipegen.errors import EvaluationError, UsageError
from pipegen.platforms.base import ChecklistItem

PLATFORMS: dict[str, PlatformDoctor] = {
    doctor.name: doctor for doctor in (GithubDoctor(), GitlabDoctor(), AzureDoctor(), JenkinsDoctor())}


def api_url(place: Place, environ: Mapping[str, str], given: str | None) -> str | None:
    return given or first_set(environ, *place.url_env) or place.default_url


def examine(checklist: dict[str, list[ChecklistItem]], environ: Mapping[str, str], given_url: str | None = None,
            given_project: str | None = None) -> list[PlatformReport]:
    """One report per target of the checklist; a platform that cannot be asked says why."""
    reports = []
    for target, items in checklist.items():
        doctor = PLATFORMS[target]
        report = PlatformReport(target, unchecked_items=sum(
            1 for item in items if not checkable(item) or item.kind in doctor.unchecked_kinds))
        place = PLACES[target]
        url = api_url(place, environ, given_url)
        project = given_project or doctor.default_project(environ)
        try:
            if not url:
                raise EvaluationError(f"{target}: no API URL: pass --api-url or set {' or '.join(place.url_env)}")
            if not project:
                raise EvaluationError(f"{target}: which {place.project_help}? pass --project")
            report.findings = doctor.check(items, doctor.connect(environ, url, project))
        except EvaluationError as exc:
            report.error = str(exc)
        reports.append(report)
    return reports


def diagnose(descriptor: Descriptor, targets: tuple[str, ...], environ: Mapping[str, str], given_url: str | None,
             given_project: str | None) -> list[PlatformReport]:
    """The descriptor's plan, its set-up checklist for `targets`, each target examined through its
    platform's API; every string of the reports scrubbed."""
    # pylint: disable=import-outside-toplevel  # the plan and the backends only when doctor runs
    from pipegen.generate.checklist import checklist
    from pipegen.plan import build_plan

    if (given_url or given_project) and len(targets) != 1:
        raise UsageError("--api-url and --project name one platform's API: pass one --target with them")
    plan = build_plan(descriptor)
    scrub.register_names(plan.secrets)  # their values, if set where doctor runs, never reach the output
    return scrub.clean_data(examine(checklist(plan, targets), environ, given_url, given_project))
