"""Reading a descriptor: YAML with positions → JSON Schema → typed model → checks that
need the whole picture. Every problem comes back located; nothing raises a traceback."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

from pipegen.ci import PROJECT_VARIABLE
from pipegen.descriptor.cron import cron_error
from pipegen.descriptor.deploy import parse_kinds
from pipegen.descriptor.model import (
    DESCRIPTOR_NAME,
    LINTERS,
    STAGES,
    IDENTITY_FIELDS,
    Approval,
    AzureSettings,
    CloudIdentity,
    CoverageThresholds,
    CustomJob,
    Data,
    Descriptor,
    DoctorSettings,
    DriftSettings,
    Environment,
    Flake8Thresholds,
    GithubSettings,
    GitlabSettings,
    Image,
    JenkinsSettings,
    Lint,
    MetricRule,
    Model,
    PipegenInstall,
    Project,
    PylintThresholds,
    Quality,
    ReportSettings,
    Requirements,
    RuffThresholds,
    TEST_ENV_REFERENCE,
    Service,
    Settings,
    SonarSettings,
    Tests,
    Triggers,
    service_variables,
)
from pipegen.descriptor import projects
from pipegen.descriptor.projects import ProjectSet
from pipegen.descriptor.requirement import requirement_error
from pipegen.descriptor.schema import dotted, schema_problems
from pipegen.descriptor.yaml_positions import KEY, MAX_BYTES, load_located
from pipegen.errors import DescriptorError, Problem, UsageError, shorten
from pipegen.paths import read_bytes, repository_of, utf8_problem

DEFAULT_PATH = Path(DESCRIPTOR_NAME)

# Text a platform would evaluate instead of carrying literally, and has no escape for. No pattern
# may match a line break (_any_refused_text searches all texts joined by them).
_UNREPRESENTABLE = {
    "github": [(re.compile(r"\$\{\{"), "GitHub Actions would evaluate '${{' as an expression; "
                "read values from the environment ($NAME) instead")],
    "azure": [(re.compile(r"\$\{\{"), "Azure Pipelines would evaluate '${{' as a template expression"),
              (re.compile(r"\$\["), "Azure Pipelines would evaluate '$[' as a runtime expression"),
              (re.compile(r"\$\([A-Za-z0-9_.]+\)"), "Azure Pipelines would expand '$(name)' as a variable macro; "
               "write '$( name)' for command substitution, or ${name} for a shell variable")],
}
# Characters no generated file can carry: C0 and C1 controls (YAML readers refuse them raw,
# and a C1 inside a quoted scalar is written raw), line/paragraph separators and the BOM
# (line breaks to some parsers), surrogates and non-characters (not encodable or not YAML).
# Characters no pipeline file can carry (refused anywhere in a descriptor's text).
UNCARRIABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _section(data: dict, key: str) -> dict:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _tuple(values: Any) -> tuple:
    return tuple(values or ())


def _strings_or_list(value: Any) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else _tuple(value)


def _project(project: dict, path: Path, folder: str | None = None) -> Project:
    install = project.get("install")
    # pylint: disable-next=import-outside-toplevel  # a small module; keeps the loader's imports flat
    from pipegen.project_files import is_package, submodule_paths
    submodules = project.get("submodules")
    return Project(
        name=project["name"], python=project.get("python", "3.11"),
        requirements=Requirements(**_section(project, "requirements")),
        source=_strings_or_list(project.get("source")),
        install=None if install is None else _strings_or_list(install),
        package=is_package(path.parent / folder if folder else path.parent),
        # Read where the descriptor is read (as `package` is): a submodule added later is fetched from the
        # next `generate` on (`check` says the pipeline is stale), without a descriptor change.
        submodules=bool(submodule_paths(repository_of(path))) if submodules is None else submodules)


def _tests(tests: dict) -> Tests:
    services = tuple(
        Service(name=name, image=spec["image"], ports=_tuple(spec.get("ports")),
                env=tuple(sorted((key, _env_text(value)) for key, value in (spec.get("env") or {}).items())))
        for name, spec in (tests.get("services") or {}).items())
    return Tests(unit=tests.get("unit"), integration=tests.get("integration"), functional=tests.get("functional"),
                 services=services,
                 env=tuple(sorted((key, _env_text(value)) for key, value in (tests.get("env") or {}).items())))


def _lint(value: Any) -> Lint:
    if value is False:
        return Lint(enabled=False)
    if isinstance(value, list):
        return Lint(tools=tuple(tool for tool in LINTERS if tool in value))
    if isinstance(value, dict):
        tools = value.get("tools")
        return Lint(tools=None if tools is None else tuple(tool for tool in LINTERS if tool in tools),
                    ratchet=_tuple(value.get("ratchet")), compare_branch=value.get("compare_branch"))
    return Lint()


def _quality(quality: dict) -> Quality:
    sonar = quality.get("sonar")
    return Quality(
        profile=quality.get("profile"),
        coverage=CoverageThresholds(**quality["coverage"]) if quality.get("coverage") is not None else None,
        pylint=PylintThresholds(**quality["pylint"]) if quality.get("pylint") is not None else None,
        flake8=Flake8Thresholds(**quality["flake8"]) if quality.get("flake8") is not None else None,
        ruff=RuffThresholds(**quality["ruff"]) if quality.get("ruff") is not None else None,
        sonar=SonarSettings(**sonar) if sonar else None,
        lint=_lint(quality.get("lint")),
        off=tuple(key for key in ("coverage", "pylint", "flake8", "ruff") if key in quality and quality[key] is None),
        pipeline_diff=quality.get("pipeline_diff", True), modes=_modes(quality.get("mode")))


def _modes(value: Any) -> tuple[tuple[str, str], ...]:
    """`quality.mode` as (gate or "default", mode) pairs. YAML 1.1 reads an unquoted `off` as false."""
    def mode(written: Any) -> str:
        return "off" if written is False else written
    if isinstance(value, dict):
        return tuple((gate, mode(written)) for gate, written in value.items())
    return () if value is None or value is True else (("default", mode(value)),)


def _build(data: dict, path: Path, positions: dict, folder: str | None = None) -> Descriptor:
    quality = _section(data, "quality")
    model = data.get("model")
    image = data.get("image")
    settings = _section(data, "settings")
    gitlab = _section(settings, "gitlab")
    azure = _section(settings, "azure")
    jenkins = _section(settings, "jenkins")
    return Descriptor(
        path=path,
        version=data.get("version", 1),
        project=_project(data["project"], path, folder),
        targets=tuple(data["targets"]),
        triggers=Triggers(**{key: (_tuple(value) if isinstance(value, list) else value)
                             for key, value in _section(data, "triggers").items()}),
        tests=_tests(_section(data, "tests")),
        quality=_quality(quality),
        model=Model(
            name=model["name"], train=model["train"],
            metrics=tuple((name, MetricRule(**rule)) for name, rule in model["metrics"].items()),
            tracking_uri_var=model.get("tracking_uri_var", "MLFLOW_TRACKING_URI"),
            champion_alias=model.get("champion_alias", "champion"),
            on_first_model=model.get("on_first_model", "thresholds"),
            secrets=_tuple(model.get("secrets"))) if model else None,
        image=Image(**{key: (_tuple(value) if key == "secrets" else _identity(value) if key == "identity" else value)
                       for key, value in image.items()})
        if image else None,
        environments=tuple(_environment(name, data["environments"][name] or {})
                           for name in STAGES if name in _section(data, "environments")),
        settings=Settings(
            installer=settings.get("installer", "uv"),
            pipegen=PipegenInstall(**_section(settings, "pipegen")),
            github=GithubSettings(**_section(settings, "github")),
            gitlab=GitlabSettings(image=gitlab.get("image"), tags=_tuple(gitlab.get("tags")),
                                  shell=gitlab.get("shell", False)),
            azure=AzureSettings(vm_image=None if azure.get("pool") else azure.get("vm_image", "ubuntu-latest"),
                                pool=azure.get("pool")),
            jenkins=JenkinsSettings(agent=jenkins.get("agent"),
                                    credentials=tuple(sorted(_section(jenkins, "credentials").items()))),
            doctor=DoctorSettings(**_section(settings, "doctor"))),
        jobs=tuple(_job(job) for job in data.get("jobs") or ()),
        data=Data(drift=_drift(_section(data, "data").get("drift"))),
        report=ReportSettings(**_section(data, "report")),
        folder=folder,
        positions=positions,
    )


def _drift(data: dict | None) -> DriftSettings | None:
    if not data:
        return None
    values = {key: (_tuple(value) if isinstance(value, list) else value) for key, value in data.items()}
    values["columns"] = tuple(sorted(_section(data, "columns").items()))
    if "alpha" in values:
        values["alpha"] = float(values["alpha"])
    return DriftSettings(**values)


def _approval(name: str, data: dict) -> Approval | None:
    """PROD asks for an approval unless the descriptor says `approval: false`; the other
    environments only when they say so (`true` or who approves)."""
    approval = data.get("approval", name == "prod")
    if approval is False:
        return None
    if approval is True:
        return Approval()
    return Approval(approvers=_tuple(approval.get("approvers")), timeout_minutes=approval.get("timeout_minutes", 1440))


def _environment(name: str, data: dict) -> Environment:
    deploy = data.get("deploy")
    return Environment(
        name=name, deploy=deploy.get("command") if isinstance(deploy, dict) else deploy, kinds=parse_kinds(deploy),
        branch=data.get("branch"),
        secrets=_tuple(data.get("secrets")), variables=_tuple(data.get("variables")), approval=_approval(name, data),
        identity=_identity(data.get("identity")))


def _identity(data: dict | None) -> CloudIdentity | None:
    return CloudIdentity(**data) if data else None


def _job(data: dict) -> CustomJob:
    return CustomJob(
        name=data["name"], stage=data["stage"], run=data["run"], needs=_tuple(data.get("needs")),
        outputs=_tuple(data.get("outputs")), inputs=_tuple(data.get("inputs")), title=data.get("title"),
        env=tuple((key, _env_text(value)) for key, value in (data.get("env") or {}).items()),
        secrets=_tuple(data.get("secrets")), variables=_tuple(data.get("variables")),
        timeout_minutes=data.get("timeout_minutes", 30))


def _env_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _strings(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every text in the descriptor, mapping keys included (they land in the output too)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), key
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _texts(value: Any, into: list[str]) -> list[str]:
    """Every text in the descriptor (as _strings), without the paths."""
    if isinstance(value, dict):
        for key, item in value.items():
            into.append(key)
            _texts(item, into)
    elif isinstance(value, list):
        for item in value:
            _texts(item, into)
    elif isinstance(value, str):
        into.append(value)
    return into


def _any_refused_text(data: dict, rules: list) -> bool:
    """Whether a text holds a character or an expression the checks below refuse: searched once
    in all the texts joined by line breaks (no pattern matches a line break, so none matches
    across two texts); only then are the texts walked one by one with their paths."""
    joined = "\n".join(_texts(data, []))
    return bool(UNCARRIABLE.search(joined)) or any(pattern.search(joined) for pattern, _ in rules)


def _semantic_problems(descriptor: Descriptor, data: dict) -> list[Problem]:
    problems = []
    schedule = descriptor.triggers.schedule
    if schedule is not None and (error := cron_error(schedule)):
        problems.append(descriptor.problem(("triggers", "schedule"), error))
    rules = [rule for target in descriptor.targets for rule in _UNREPRESENTABLE.get(target, [])]
    for path, text in _strings(data) if _any_refused_text(data, rules) else ():
        if found := UNCARRIABLE.search(text):
            problems.append(descriptor.problem(path, f"{dotted(path)}: the character U+{ord(found.group(0)):04X} is "
                                                     "not allowed (control characters, separators and non-characters "
                                                     "cannot be carried into the pipeline files)"))
        for pattern, why in rules:
            if pattern.search(text):
                problems.append(descriptor.problem(path, f"{dotted(path)}: {why}"))
    if descriptor.model is not None:
        for name, rule in descriptor.model.metrics:
            if rule.threshold is None and rule.min_absolute_change is None and rule.min_relative_change is None:
                problems.append(descriptor.problem(("model", "metrics", name), f"model.metrics.{name}: give at least "
                                                   "one of threshold, min_absolute_change, min_relative_change"))
    requirement = descriptor.settings.pipegen.requirement
    if requirement is not None and (error := requirement_error(requirement)):
        problems.append(descriptor.problem(("settings", "pipegen", "requirement"),
                                           f"settings.pipegen.requirement: {error}"))
    if _section(data, "quality").get("mode") is True:
        problems.append(descriptor.problem(("quality", "mode"), "quality.mode: write a gate mode (enforce, dry-run, "
                                           "off or auto); YAML reads an unquoted on/yes/true as true"))
    problems += _drift_problems(descriptor) + _report_problems(descriptor) + _test_env_problems(descriptor)
    problems += _env_name_clashes(descriptor, data) + _identity_problems(descriptor)
    prod = descriptor.environment("prod")
    if prod is not None and prod.branch and "*" in prod.branch and "github" in descriptor.targets:
        problems.append(descriptor.problem(("environments", "prod", "branch"), (
            f"environments.prod.branch: {shorten(prod.branch)!r} is a glob, but GitHub Actions' job condition "
            "compares one branch name; name one branch for PROD (or drop github from targets)")))
    if prod is not None and not prod.deploys and descriptor.model is None and not any(
            job.stage == "prod" for job in descriptor.jobs):
        problems.append(descriptor.problem(("environments", "prod"), "environments.prod: nothing to do in PROD "
                                           "(give it a deploy command or kind, a model to promote, or a job)"))
    return problems


def _identity_problems(descriptor: Descriptor) -> list[Problem]:
    """Each identity names what its cloud needs, and nothing another cloud's (a field left over
    from a copied block would be ignored silently)."""
    places = [(("environments", env.name, "identity"), env.identity) for env in descriptor.environments]
    places.append((("image", "identity"), descriptor.image.identity if descriptor.image else None))
    problems = []
    for where, identity in places:
        if identity is None:
            continue
        needed = IDENTITY_FIELDS[identity.cloud]
        missing = [name for name in needed if not getattr(identity, name)]
        if missing:
            problems.append(descriptor.problem(where, f"{dotted(where)}: cloud {identity.cloud} needs "
                                                      f"{' and '.join(missing)}"))
        others = {name for fields in IDENTITY_FIELDS.values() for name in fields} - set(needed)
        others |= {"subscription_id", "service_connection"} if identity.cloud != "azure" else set()
        problems += [descriptor.problem((*where, name), f"{dotted((*where, name))}: not used by cloud {identity.cloud}")
                     for name in sorted(others) if getattr(identity, name)]
    image = descriptor.image
    if image is not None and image.identity is not None and (image.username_secret or image.password_secret):
        problems.append(descriptor.problem(("image", "identity"), "image.identity: the registry login uses the "
                                           "identity's short-lived token; drop username_secret and password_secret"))
    return problems


def _env_name_clashes(descriptor: Descriptor, data: dict) -> list[Problem]:
    """A name a job or an environment sets twice (an `env` literal and a variable, a secret
    and an input, ...): one of them would be dropped silently on every platform."""
    places: list[tuple[tuple, dict]] = [(("jobs", index), job) for index, job in enumerate(data.get("jobs") or [])
                                        if isinstance(job, dict)]
    places += [(("environments", name), environment) for name, environment in _section(data, "environments").items()
               if isinstance(environment, dict)]
    problems = []
    for where, block in places:
        seen: dict[str, str] = {}
        for kind in ("env", "secrets", "variables", "inputs"):
            names = block.get(kind) or ()
            for index, name in enumerate(names):
                if not isinstance(name, str):
                    continue
                path = (*where, kind, name, KEY) if kind == "env" else (*where, kind, index)
                if name in seen:
                    problems.append(descriptor.problem(path, f"{dotted(path[:-1] if kind == 'env' else path)}: "
                                                             f"{name} is also in {seen[name]}; give it one source "
                                                             "(the other would be dropped)"))
                else:
                    seen[name] = f"{dotted(where)}.{kind}"
    return problems


def _test_env_problems(descriptor: Descriptor) -> list[Problem]:
    """tests.env may read where a service runs, and nothing else: a reference to anything but a
    declared service's host or port would be expanded differently, or not at all, per platform."""
    provided = service_variables(descriptor.tests.services)
    problems = []
    for name, value in descriptor.tests.env:
        where = ("tests", "env", name)
        if name in provided:
            problems.append(descriptor.problem(where, f"tests.env.{name}: set by the service "
                                               f"{provided[name]} (where the CI runs it); use another name"))
        for reference in TEST_ENV_REFERENCE.findall(value):
            if reference not in provided:
                known = ", ".join(f"${{{known}}}" for known in provided) or "none: tests.services is empty"
                problems.append(descriptor.problem(where, f"tests.env.{name}: ${{{reference}}} is no service's host "
                                                   f"or port (known: {known})"))
    return problems


def _drift_problems(descriptor: Descriptor) -> list[Problem]:
    drift = descriptor.data.drift
    if drift is None:
        return []
    where = ("data", "drift")
    problems = []
    if (drift.reference is None) == (drift.reference_artifact is None):
        problems.append(descriptor.problem(where, "data.drift: give exactly one of reference (a path) and "
                                           "reference_artifact (the champion's logged data snapshot)"))
    if descriptor.model is None:
        for key in ("reference_artifact", "on_drift"):
            if key == "on_drift" and drift.on_drift != "retrain" or getattr(drift, key) is None:
                continue
            problems.append(descriptor.problem((*where, key), f"data.drift.{key}: needs a model block "
                                               "(the champion and the train job live there)"))
    for name in sorted(set(drift.include) & set(drift.exclude)):
        problems.append(descriptor.problem((*where, "exclude"), f"data.drift: column {name!r} is both "
                                           "included and excluded"))
    return problems


def _report_problems(descriptor: Descriptor) -> list[Problem]:
    report = descriptor.report
    if not report.comment:
        return []
    problems = []
    if "jenkins" in descriptor.targets and report.host not in ("github", "gitlab", "bitbucket"):
        problems.append(descriptor.problem(("report",), "report: Jenkins posts through the repository host's API; "
                                           "set report.host to github, gitlab or bitbucket"))
    if "jenkins" in descriptor.targets and report.token_secret is None:
        problems.append(descriptor.problem(("report",), "report: Jenkins needs report.token_secret (the secret "
                                           "whose Jenkins credential holds the host's API token)"))
    if "gitlab" in descriptor.targets and report.token_secret is None:
        problems.append(descriptor.problem(("report",), "report: GitLab needs report.token_secret (a project or "
                                           "group access token with the api scope; CI_JOB_TOKEN cannot write notes)"))
    return problems


def _required_problems(data: dict, positions: dict, path: Path) -> list[Problem]:
    """What the schema cannot require (it also describes `projects:`): a lone descriptor's project and name."""
    project = data.get("project")
    if project is None:
        return [Problem(str(path), 1, 1, "the descriptor: missing required key 'project' (or projects: to "
                                         "declare several)")]
    if isinstance(project, dict) and "name" not in project:
        line, col = positions.get(("project",), (1, 1))
        return [Problem(str(path), line, col, "project: missing required key 'name'")]
    return []


def _checked(data: dict, positions: dict, raw: dict, path: Path, folder: str | None = None) -> Descriptor:
    """The typed descriptor of checked data; raises DescriptorError with every located problem."""
    problems = schema_problems(data, positions, str(path), raw)
    problems += _required_problems(data, positions, path)
    if problems:
        raise DescriptorError(problems)
    descriptor = _build(data, path, positions, folder)
    problems = _semantic_problems(descriptor, data)
    if problems:
        raise DescriptorError(problems)
    return descriptor


def _project_set(data: dict, positions: dict, raw: dict, path: Path) -> ProjectSet:
    """Every project of a `projects:` descriptor, each checked as a descriptor of its own; the
    problems of all of them together (a shared key's problem once, where it was written)."""
    problems = projects.shape_problems(data, positions, str(path))
    if problems:
        raise DescriptorError(problems)
    entries = []
    found: set[Problem] = set()
    for name, block in data["projects"].items():
        try:
            descriptor = _checked(projects.project_data(data, name), projects.project_positions(positions, name),
                                  raw, path, projects.normal_folder(block["folder"]))
        except DescriptorError as exc:
            found.update(exc.problems)
            continue
        entries.append(projects.ProjectEntry(name, descriptor.folder or ".", descriptor,
                                             _tuple(block.get("depends_on")), _tuple(block.get("paths"))))
    if found:
        raise DescriptorError(sorted(found))
    return projects.ProjectSet(path, tuple(entries))


def parse_any(text: str, path: Path) -> Descriptor | ProjectSet:
    """Parses descriptor text: one project, or (`projects:`) several. Raises DescriptorError
    with every located problem."""
    filename = str(path)
    located, problems = load_located(text, filename)
    if located is None:
        raise DescriptorError(problems)
    if not isinstance(located.data, dict):
        raise DescriptorError([Problem(filename, 1, 1,
                                       "the descriptor must be a mapping of keys (project, targets, ...)")])
    if "projects" in located.data:
        return _project_set(located.data, located.positions, located.raw, path)
    return _checked(located.data, located.positions, located.raw, path)


def parse_descriptor(text: str, path: Path, project: str | None = None) -> Descriptor:
    """Parses descriptor text into one project's descriptor: the only one, or with `projects:`
    the one named by `project` (else $PIPEGEN_PROJECT, which every job of a project carries)."""
    return one_project(parse_any(text, path), project)


def one_project(parsed: Descriptor | ProjectSet, project: str | None = None) -> Descriptor:
    """The descriptor of `project` (else $PIPEGEN_PROJECT) in a project set; a lone descriptor as it is."""
    if isinstance(parsed, Descriptor):
        return parsed
    name = project or os.environ.get(PROJECT_VARIABLE)
    entry = parsed.project(name) if name else None
    if entry is None:
        named = f"no project named {name!r}" if name else "name one"
        raise DescriptorError([Problem(str(parsed.path), 1, 1, f"this descriptor declares several projects "
                                       f"({', '.join(parsed.names)}): {named} with --project or "
                                       f"{PROJECT_VARIABLE}")])
    return entry.descriptor


def read_any(path: Path | str = DEFAULT_PATH) -> Descriptor | ProjectSet:
    """The descriptor file: one project, or several (`projects:`)."""
    path = Path(path)
    if not os.path.lexists(path):
        raise DescriptorError([Problem(str(path), 1, 1, "no such file (run `pipegen init` to write one)")])
    try:
        # One byte over the limit is enough to refuse it; a FIFO or device is refused unopened.
        data = read_bytes(path, limit=MAX_BYTES)
    except UsageError as exc:
        raise DescriptorError([Problem(str(path), 1, 1, str(exc).removeprefix(f"{path}").lstrip(": "))]) from None
    problem = utf8_problem(data)
    if problem is not None:
        raise DescriptorError([Problem(str(path), *problem)])
    return parse_any(data.decode("utf-8"), path)


def load_descriptor(path: Path | str = DEFAULT_PATH, project: str | None = None) -> Descriptor:
    """One project's descriptor (see one_project)."""
    return one_project(read_any(path), project)
