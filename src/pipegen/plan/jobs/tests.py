"""The test pyramid's jobs: unit -> integration -> functional, each under coverage; the last level
combines the coverage of every level and gates it."""
from __future__ import annotations

import json

from pipegen.descriptor.model import TEST_ENV_REFERENCE, Descriptor, Service
from pipegen.plan.jobs.common import (
    env_items,
    gate_command,
    gate_mode,
    number,
    pipegen_for,
    project_environment,
    quote,
    report_path,
    source_folders,
)
from pipegen.plan.jobs.lint import lint_tools
from pipegen.plan.model import REPORT_DIR, EnvKind, EnvValue, Job, Step
from pipegen.syntax import shell_command

# 7.10 brought the start-up hook (a .pth file the wheel installs) that measures every Python
# process started while COVERAGE_PROCESS_CONFIG is set: pytest-xdist's workers, subprocesses.
COVERAGE_REQUIREMENT = "coverage[toml]>=7.10,<8"


PYTEST_REQUIREMENT = "pytest>=7"


COVERAGE_DIR = "pipegen-coverage"  # one data file per test level, combined after the last level


def _coverage_paths_config(sources: tuple[str, ...]) -> str:
    """Shell that writes a coverage `[paths]` file for the combine step only: each level ran in
    its own job, whose checkout may sit at another absolute path (self-hosted and Jenkins agents,
    GitLab shell runners), so every measured `<anything>/SOURCE/` is mapped to this job's
    `SOURCE/`. The project's own coverage configuration still drives `coverage xml`."""
    folders = [source.strip("/").removeprefix("./") for source in sources]
    if not folders or any(folder in ("", ".") for folder in folders):
        return ""  # the whole checkout is measured: no folder name to anchor the mapping on
    lines = ["[paths]"]
    for index, folder in enumerate(folders):
        lines += [f"source{index} =", f"    {folder}/", f"    */{folder}/"]
    return shell_command("printf '%s\\n'", *(quote(line) for line in lines), f"> {COVERAGE_DIR}/paths.rc") + "\n"


def _coverage_data(level: str) -> str:
    return f"{COVERAGE_DIR}/{level}.coverage"


def env_exports(test_env: tuple[tuple[str, str], ...]) -> str:
    """`export NAME=value` for the tests.env values that name where a service runs: the host and
    port are known only when the job runs (a service alias on GitLab, --service under pipegen run),
    so the shell puts them together; the rest of the text stays quoted as written."""
    lines = []
    for name, value in test_env:
        if not TEST_ENV_REFERENCE.search(value):
            continue
        parts = [part for part in TEST_ENV_REFERENCE.split(value)]
        # split() alternates text and captured names: text, NAME, text, NAME, text
        pieces = [quote(part) if index % 2 == 0 else f'"${{{part}}}"'
                  for index, part in enumerate(parts) if part or index % 2]
        lines.append(f"export {name}={''.join(pieces)}\n")
    return "".join(lines)


def measured_run(level: str, path: str, sources: tuple[str, ...], junit: str) -> str:
    """Shell running one level's tests under coverage, in every Python process they start.

    `coverage run` alone measures only its own process: with pytest-xdist in the repository's
    pytest options (`-n auto` in addopts) the tests run in worker processes and the data would be
    empty. Coverage's start-up hook measures any Python process that finds COVERAGE_PROCESS_CONFIG
    set; the value is this run's own configuration (the project's settings, plus this level's
    data file and sources, in parallel mode so each process writes its own file), then the level's
    files are combined into one. COVERAGE_REQUIREMENT brings the hook, unless the project's own
    install pins an older coverage."""
    data = _coverage_data(level)
    # JSON strings are Python strings too, in double quotes: the shell's single quotes stay plain.
    settings = f"data_file={json.dumps(data)}" + (f", source={json.dumps(list(sources))}" if sources else "")
    # A project whose lock pins coverage below 7.10 has no start-up hook: the value is empty, that
    # coverage never reads it, and the tests' own process is measured as before.
    config = (f"import coverage; cov = coverage.Coverage({settings}); cov.config.parallel = True; "
              'print(cov.config.serialize() if hasattr(cov.config, "serialize") else "")')
    cov_source = f" --source={quote(','.join(sources))}" if sources else ""
    return (f"export COVERAGE_PROCESS_CONFIG=\"$(python -c {quote(config)})\"\n"
            f"python -m coverage run --parallel-mode --data-file={data}{cov_source} -m pytest {quote(path)} "
            f"--junitxml={junit}\n"
            "unset COVERAGE_PROCESS_CONFIG\n"
            f"python -m coverage combine --quiet --data-file={data} {COVERAGE_DIR}")


def pyramid_jobs(descriptor: Descriptor, thresholds) -> list[Job]:
    """Every level runs under coverage into its own data file and hands it on; the last
    level combines them and gates the total and the changed lines (what the whole pyramid
    covers, as the descriptor means it)."""
    jobs: list[Job] = []
    levels = descriptor.tests.levels()
    coverage_min, diff_min = thresholds["coverage_min"], thresholds["coverage_diff_min"]
    gated = coverage_min is not None or diff_min is not None
    sources = source_folders(descriptor)
    mode = gate_mode(descriptor, "coverage")
    for index, (level, path) in enumerate(levels):
        last = index == len(levels) - 1
        junit = report_path(f"{level}.junit.xml")
        steps = [Step("Prepare the report folders", f"mkdir -p {REPORT_DIR} {COVERAGE_DIR}", reads=()),
                 Step(f"{level.capitalize()} tests under coverage (xdist workers and subprocesses too)",
                      env_exports(descriptor.tests.env) + measured_run(level, path, sources, junit))]
        gate = None
        if last:
            parts = " ".join(_coverage_data(other) for other, _ in levels)
            combined = f"{COVERAGE_DIR}/combined.coverage"
            remap = _coverage_paths_config(sources)
            rcfile = f" --rcfile={COVERAGE_DIR}/paths.rc" if remap else ""
            steps.append(Step("Coverage of all levels (Cobertura XML)",
                              remap + f"python -m coverage combine --keep{rcfile} --data-file={combined} {parts}\n"
                              f"python -m coverage xml --data-file={combined} -o coverage.xml"))
            if gated:
                flags = ["--report coverage.xml"]
                if coverage_min is not None:
                    flags.append(f"--min {number(coverage_min)}")
                if diff_min is not None:
                    flags.append(f"--diff-min {number(diff_min)} "
                                 f"--compare-branch {quote(thresholds['compare_branch'])}")
                steps.append(Step("Coverage gate", gate_command("coverage", mode, *flags)))
                gate = "coverage"
        previous = [other for other, _ in levels[:index]]
        services = descriptor.tests.services if level != "unit" else ()
        jobs.append(Job(
            id=level, title=f"{level.capitalize()} tests", stage="test",
            comment={"unit": "Unit tests under coverage; the fastest level"
                             + (", in parallel with lint." if lint_tools(descriptor, thresholds) else "."),
                     "integration": "Integration tests, only after the unit tests pass (fail fast).",
                     "functional": "Functional tests, the slowest level, last."}[level]
            + (" Combines the coverage of every level and gates it." if last and gate else ""),
            # Every earlier level, not only the one before: GitLab (`needs:`) and GitHub only
            # hand a job the files of the jobs it needs directly.
            steps=tuple(steps), needs=tuple(previous),
            **project_environment(descriptor, ("runtime", "test"), (PYTEST_REQUIREMENT, COVERAGE_REQUIREMENT)),
            install_note="The project's runtime and test requirements, the project, pytest and coverage: the "
                         f"{level} tests import the project."
                         + (" pipegen (core): the coverage gate." if gate else " No pipegen: no gate here."),
            pipegen=pipegen_for(descriptor) if gate else None,
            full_history=last and diff_min is not None,
            compare_branch=thresholds["compare_branch"] if last and diff_min is not None else None,
            # The coverage gate's JUnit beside the tests': every gate's result reaches the test tab.
            junit=(junit, report_path("coverage.junit.xml")) if gate else (junit,), fetches=tuple(previous),
            artifacts=(REPORT_DIR, "coverage.xml") if last else (REPORT_DIR,),
            hands_over=(_coverage_data(level),) if not last else
            (("coverage.xml",) if descriptor.quality.sonar else ()),
            gate=gate, gate_mode=mode if gate else None, services=services,
            env=env_items(test_env(descriptor, services))))
    return jobs


def test_env(descriptor: Descriptor, services: tuple[Service, ...]) -> dict[str, EnvValue]:
    """A test job's environment: where its services run, and tests.env's literal values (those
    naming a service's host or port are exported by the step). A level without services (unit)
    still gets the names tests.env reads, at their defaults, so the tests find what they read."""
    literal = {name: EnvValue(EnvKind.LITERAL, value) for name, value in descriptor.tests.env
               if not TEST_ENV_REFERENCE.search(value)}
    read = {reference for _, value in descriptor.tests.env for reference in TEST_ENV_REFERENCE.findall(value)}
    defaults = {name: value for name, value in service_env(descriptor.tests.services).items() if name in read}
    return {**defaults, **service_env(services), **literal}


def service_env(services: tuple[Service, ...]) -> dict[str, EnvValue]:
    """<NAME>_HOST for each service; backends that reach services elsewhere than localhost
    (GitLab's Docker executor: the service's alias) override the value when they render."""
    env: dict[str, EnvValue] = {}
    for service in services:
        env[f"{service.env_prefix}_HOST"] = EnvValue(EnvKind.LITERAL, "localhost")
        if service.ports:
            env[f"{service.env_prefix}_PORT"] = EnvValue(EnvKind.LITERAL, str(service.ports[0]))
    return env
