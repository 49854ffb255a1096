"""What the tests read from their environment, for tests.env: the existing CI's test-job
environment (known to work in CI) first, then the environment docker-compose gives the services
built from the repository (the application, its test runner). Hosts become where pipegen's CI
runs each service; what cannot be carried (secrets, expressions, container paths) is listed.

The existing CI is read from each platform's files pipegen did not write: a GitHub test workflow's
`env` (workflow, job, testing steps), a `.gitlab-ci.yml` test job's `variables:` (the pipeline's, its
`extends` templates', its own), an Azure pipeline's `variables:` (pipeline, stage, testing job; Azure hands
them to scripts upper-cased, `.` as `_`) and its testing steps' `env`. A value the platform would evaluate
(GitHub `${{ }}`, GitLab `$VAR`, Azure `$(var)`, `${{ }}`, `$[ ]`) is left out: it comes from the
platform's settings, where pipegen's pipeline reads its CI variables too. The CI's own settings (GIT_*,
PIP_*, the runner's) are not what the tests read and are not carried."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.init.detect.ci_competition import Mainline, azure_pipeline, github_workflow, runs_checks
from pipegen.init.detect.ci_files import GENERATED, ci_files, written_by_pipegen
from pipegen.init.detect.services import (
    Hosts,
    ServiceFinding,
    TestEnvironment,
    carried_value,
    compose_test_environment,
)
from pipegen.project_files import read_text

_LOCAL_HOSTS = ("localhost", "127.0.0.1")
# Settings of the CI itself (its runner, git, the installers), never what the tests read.
_CI_SETTINGS = re.compile(r"^(?:CI|GIT|GITLAB|GITHUB|RUNNER|FF|DOCKER|PIP|POETRY|UV)_|^PYTHON_?VERSION$")
_GITLAB_KEYWORDS = {"stages", "variables", "workflow", "default", "include", "image", "services", "cache",
                    "before_script", "after_script", "pages"}


@dataclass(frozen=True)
class CiEnvironment:
    """One CI file's test environment, before it is filtered: the names as the tests see them."""

    source: str  # the file, relative to the repository
    values: dict[str, object]
    hosts: Hosts  # where the file's host names run in pipegen's CI
    evaluated: re.Pattern  # text the platform evaluates instead of carrying it literally
    evaluated_why: str


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _load(root: Path, relative: str) -> dict:
    try:
        data = load_bounded(read_text(root / relative))
    except yaml.YAMLError:
        return {}
    return _mapping(data)


def _files(root: Path, target: str) -> list[str]:
    """The platform's CI files pipegen did not write."""
    return [path for path in ci_files(root).get(target, ()) if not written_by_pipegen(root / path)]


# --- GitHub Actions ----------------------------------------------------------------------------

def _workflow_test_env(data: dict) -> dict[str, object]:
    """The workflow's env, its testing jobs' env and their testing steps' env, in that order."""
    found = dict(_mapping(data.get("env")))
    for job in _mapping(data.get("jobs")).values():
        if not isinstance(job, dict) or not runs_checks(yaml.safe_dump(job)):
            continue
        found.update(_mapping(job.get("env")))
        for step in job.get("steps") or ():
            if isinstance(step, dict) and runs_checks(str(step.get("run", ""))):
                found.update(_mapping(step.get("env")))
    return found


def github_environments(root: Path, services: tuple[ServiceFinding, ...],
                        mainline: Mainline) -> Iterator[CiEnvironment]:
    """The test workflows (those competing with pipegen's): services run on the runner, at localhost."""
    for relative in _files(root, "github"):
        if relative.startswith(".github/workflows/") and github_workflow(root, relative, mainline).competes:
            yield CiEnvironment(relative, _workflow_test_env(_load(root, relative)), Hosts(services, _LOCAL_HOSTS),
                                re.compile(r"\$\{\{"), "a GitHub expression (a secret, the matrix...): give it a value "
                                                       "or a CI variable")


# --- service aliases (GitLab, Azure container jobs) -----------------------------------------------

def _without_tag(image: str) -> str:
    """An image reference without its tag or digest: `registry:5000/team/db:16` -> `registry:5000/team/db`."""
    name = image.split("@")[0]
    folder, _, last = name.rpartition("/")
    return (f"{folder}/" if folder else "") + last.split(":")[0]


def _repository_of(image: str) -> str:
    """An image's repository without the registry's defaults, tag or digest: `postgres:16` -> `postgres`."""
    return _without_tag(image).removeprefix("docker.io/").removeprefix("library/")


def _aliases(named_images: list[tuple[str, str]], services: tuple[ServiceFinding, ...],
             where: str) -> tuple[tuple[tuple[str, ServiceFinding], ...], tuple[tuple[str, str], ...]]:
    """(alias -> the compose service running the same image, alias -> why it does not run in pipegen's CI)."""
    by_image = {_repository_of(service.image): service for service in services}
    aliases, absent = [], []
    for alias, image in named_images:
        service = by_image.get(_repository_of(image))
        if service is not None:
            aliases.append((alias, service))
        elif alias not in {found.name for found in services}:
            absent.append((alias, f"a service of {where} ({image}) that pipegen's descriptor does not run: add it "
                                  "under tests.services"))
    return tuple(aliases), tuple(absent)


# --- GitLab CI ---------------------------------------------------------------------------------

def _gitlab_aliases(entry) -> list[tuple[str, str]]:
    """(host name, image) of one `services:` entry: its aliases, else the names GitLab derives from the image
    (tag dropped, `/` as `__` and as `-`)."""
    spec = {"name": entry} if isinstance(entry, str) else _mapping(entry)
    image = str(spec.get("name") or "")
    if not image:
        return []
    if spec.get("alias"):
        names = re.split(r"[,\s]+", str(spec["alias"]).strip())
    else:
        bare = _without_tag(image)
        names = [bare.replace("/", "__"), bare.replace("/", "-")]
    return [(name, image) for name in dict.fromkeys(names) if name]


def _gitlab_job(document: dict, name: str, seen: frozenset[str] = frozenset()) -> dict:
    """The job with what its `extends` templates give it (variables merged, the rest the nearest's)."""
    job = _mapping(document.get(name))
    merged: dict = {}
    parents = job.get("extends")
    for parent in [parents] if isinstance(parents, str) else parents or []:
        if isinstance(parent, str) and parent not in seen:
            inherited = _gitlab_job(document, parent, seen | {name})
            merged.update({key: value for key, value in inherited.items() if key != "variables"})
            merged["variables"] = {**_mapping(merged.get("variables")), **_mapping(inherited.get("variables"))}
    merged.update({key: value for key, value in job.items() if key not in ("variables", "extends")})
    merged["variables"] = {**_mapping(merged.get("variables")), **_mapping(job.get("variables"))}
    return merged


def _gitlab_value(value) -> object:
    """A variable's value: `NAME: value`, or the expanded form `NAME: {value: ..., description: ...}`."""
    return value.get("value") if isinstance(value, dict) else value


def gitlab_environments(root: Path, services: tuple[ServiceFinding, ...]) -> Iterator[CiEnvironment]:
    """`.gitlab-ci.yml`'s test jobs (their scripts run tests or linters): the pipeline's variables and theirs.
    A GitLab service is reached by its alias: one running the image of a compose service is that service."""
    relative = GENERATED["gitlab"]
    if relative not in _files(root, "gitlab"):
        return
    document = _load(root, relative)
    values: dict[str, object] = {key: _gitlab_value(value)
                                 for key, value in _mapping(document.get("variables")).items()}
    named: list[tuple[str, str]] = []
    for entry in [*(document.get("services") or []), *(_mapping(document.get("default")).get("services") or [])]:
        named += _gitlab_aliases(entry)
    tested = False
    for name in document:
        if name in _GITLAB_KEYWORDS or str(name).startswith(".") or not isinstance(document[name], dict):
            continue
        job = _gitlab_job(document, name)
        script = "\n".join(str(line) for key in ("before_script", "script") for line in job.get(key) or [])
        if not runs_checks(script):
            continue
        tested = True
        values.update({key: _gitlab_value(value) for key, value in job["variables"].items()})
        for entry in job.get("services") or []:
            named += _gitlab_aliases(entry)
    if tested:
        aliases, absent = _aliases(named, services, f"{relative}'s test jobs")
        yield CiEnvironment(relative, values, Hosts(services, aliases=aliases, absent=absent),
                            re.compile(r"\$"), "a GitLab variable reference ($CI_..., a CI/CD variable): give it a "
                                               "value or a CI variable")


# --- Azure Pipelines ---------------------------------------------------------------------------

def _azure_env_name(name: str) -> str:
    """The environment variable Azure hands a pipeline variable to scripts as."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name).upper()


def _azure_variables(raw, found: dict[str, object], notes: dict[str, str]) -> None:
    """`variables:` as a mapping, or as a list of {name, value} / {group} / {template} entries."""
    if isinstance(raw, dict):
        found.update({_azure_env_name(str(key)): value for key, value in raw.items()})
        return
    for entry in raw if isinstance(raw, list) else []:
        entry = _mapping(entry)
        if "name" in entry:
            found[_azure_env_name(str(entry["name"]))] = entry.get("value")
        elif "group" in entry:
            notes[f"group {entry['group']}"] = "a variable group in the Azure DevOps library: set what the tests " \
                                               "read from it as CI variables"
        elif "template" in entry:
            notes[f"template {entry['template']}"] = "a variables template pipegen does not follow: carry what the " \
                                                     "tests read from it by hand"


def _azure_jobs(document: dict) -> Iterator[tuple[dict, dict]]:
    """(stage, job) for every job: `stages:` of `jobs:`, top-level `jobs:`, or top-level `steps:` (one job)."""
    if document.get("steps"):
        yield {}, document
    for job in document.get("jobs") or []:
        yield {}, _mapping(job)
    for stage in document.get("stages") or []:
        for job in _mapping(stage).get("jobs") or []:
            yield _mapping(stage), _mapping(job)


def _azure_steps(job: dict) -> list[dict]:
    if "steps" in job:
        return [_mapping(step) for step in job.get("steps") or []]
    strategy = _mapping(job.get("strategy"))
    return [_mapping(step) for phase in strategy.values() for step in _mapping(phase).get("steps") or []]


def _step_script(step: dict) -> str:
    inputs = _mapping(step.get("inputs"))
    return "\n".join(str(text) for text in (step.get("script"), step.get("bash"), step.get("pwsh"),
                                            step.get("powershell"), inputs.get("script"), inputs.get("arguments"))
                     if text)


def azure_environments(root: Path, services: tuple[ServiceFinding, ...],
                       mainline: Mainline) -> Iterator[CiEnvironment]:
    """The Azure pipelines competing with pipegen's: their variables (pipeline, stage, testing job) and their
    testing steps' env. Services run at localhost on a VM job, by their alias in a container job."""
    for relative in _files(root, "azure"):
        if not azure_pipeline(root, relative, mainline).competes:
            continue
        document = _load(root, relative)
        values: dict[str, object] = {}
        notes: dict[str, str] = {}
        _azure_variables(document.get("variables"), values, notes)
        containers = {str(spec.get("container")): str(spec.get("image") or "")
                      for spec in _mapping(document.get("resources")).get("containers") or [] if isinstance(spec, dict)}
        named: list[tuple[str, str]] = []
        for stage, job in _azure_jobs(document):
            steps = _azure_steps(job)
            if not runs_checks("\n".join(_step_script(step) for step in steps)):
                continue
            _azure_variables(stage.get("variables"), values, notes)
            if job is not document:  # a pipeline of steps only: its variables are the pipeline's, read above
                _azure_variables(job.get("variables"), values, notes)
            named += [(str(alias), containers[str(ref)]) for alias, ref in _mapping(job.get("services")).items()
                      if str(ref) in containers]
            for step in steps:
                if runs_checks(_step_script(step)):
                    values.update(_mapping(step.get("env")))
        aliases, absent = _aliases(named, services, f"{relative}'s test jobs")
        values.update(notes)  # said as left out, by name
        yield CiEnvironment(relative, values, Hosts(services, _LOCAL_HOSTS, aliases, absent),
                            re.compile(r"\$\(|\$\{\{|\$\["), "an Azure macro or expression ($(name), ${{ }}, $[ ]): "
                                                             "give it a value or a CI variable")


# --- all of them -------------------------------------------------------------------------------

def _filtered(found: list[CiEnvironment]) -> TestEnvironment:
    env: dict[str, str] = {}
    left_out: dict[str, str] = {}
    sources = []
    for ci in found:
        for key, value in ci.values.items():
            key = str(key)
            if key in env or key in left_out or _CI_SETTINGS.match(key):
                continue
            if key.startswith(("group ", "template ")):
                left_out[key] = str(value)
            elif ci.evaluated.search(str(value)):
                left_out[key] = ci.evaluated_why
            else:
                carried, why = carried_value(key, value, ci.hosts)
                if carried is None:
                    left_out[key] = why
                else:
                    env[key] = carried
        if ci.values:
            sources.append(ci.source)
    return TestEnvironment(tuple(env.items()), tuple(sources), tuple(left_out.items()))


def ci_test_environment(root: Path, services: tuple[ServiceFinding, ...], mainline: Mainline) -> TestEnvironment:
    """The environment the repository's existing CI gives its tests: GitHub, GitLab, then Azure."""
    return _filtered([*github_environments(root, services, mainline), *gitlab_environments(root, services),
                      *azure_environments(root, services, mainline)])


def environment_of_tests(root: Path, services: tuple[ServiceFinding, ...], mainline: Mainline) -> TestEnvironment:
    """The existing CI's test environment, then compose's for what it does not set."""
    ci = ci_test_environment(root, services, mainline)
    compose = compose_test_environment(root, services)
    env = dict(ci.env)
    left_out = dict(ci.left_out)
    for key, value in compose.env:
        env.setdefault(key, value)
    for key, why in compose.left_out:
        if key not in env:
            left_out.setdefault(key, why)
    sources = ci.sources + tuple(source for source in compose.sources
                                 if any(key not in dict(ci.env) for key, _ in compose.env))
    left = tuple((key, why) for key, why in left_out.items() if key not in env)
    return TestEnvironment(tuple(env.items()), sources, left, compose.built, compose.built_services)
