"""What a failed step means, said plainly: the project's own tests failing as written is a
verdict on the repository (on this machine, with this Python), not on pipegen's set-up; an
install that fails is the project's dependencies or install command. Read from the JUnit files
the test step wrote, never guessed from the exit code alone."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from pipegen.errors import PipegenError
from pipegen.paths import read_bytes
from pipegen.plan.model import Job
from pipegen.project_files import submodule_paths

MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_NAMED = 3  # failing tests named in the one-line message; the log has them all


def _failures(report: Path) -> tuple[int, int, list[str]]:
    """(tests, failed or in error, the first failing tests' names) of one JUnit XML file."""
    try:  # a file the job wrote: through the one safe reader (no FIFO, no link out of the job's copy)
        root = ET.fromstring(read_bytes(report, MAX_REPORT_BYTES))
    except (ET.ParseError, PipegenError):
        return 0, 0, []
    total = failed = 0
    names = []
    for case in root.iter("testcase"):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            path = (case.get("classname") or "").replace(".", "/")
            names.append(f"{path}.py::{case.get('name')}" if path else str(case.get("name")))
    for suite in root.iter("testsuite"):  # an error while collecting is a suite error without a testcase
        errors = suite.get("errors") or "0"
        if not list(suite.iter("testcase")) and errors.isdigit():
            failed += int(errors)
    return total, failed, names


def missing_submodules(workdir: Path) -> list[str]:
    """The git submodules .gitmodules names whose folder is empty or absent in the job's copy (`workdir`:
    the project's folder in it; .gitmodules is at the top of the copy)."""
    root = next((folder for folder in (workdir, *workdir.parents)
                 if (folder / ".gitmodules").exists() or (folder / ".git").exists()), workdir)
    return [path for path in submodule_paths(root) if not _has_files(root / path)]


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def failed_step(job: Job, kind: str, title: str, code: int, workdir: Path, python: str,
                runs_tests: bool = True, submodules: bool = True) -> str:
    """The message of a failed job: the step and its exit code, and what it means when known
    (`python`: the interpreter the job ran with, named in the message; `runs_tests`: the step is
    the one running the project's tests, whose JUnit file says which failed, not a gate's;
    `submodules`: the plan's checkouts fetch the git submodules)."""
    message = f"step {title!r} exited with {code}"
    if kind == "install":
        return message + (f": installing the project failed (its dependencies or install command, with "
                          f"Python {python}); the log shows pip's or the tool's own error")
    if not runs_tests:
        return message
    counts = [_failures(workdir / report) for report in job.junit if (workdir / report).is_file()]
    total, failed = sum(count[0] for count in counts), sum(count[1] for count in counts)
    if not failed:
        return message
    missing = missing_submodules(workdir)
    if missing:
        why = ("project.submodules is false in the descriptor, so no checkout of the pipeline fetches them: remove "
               "that line (or set it to true) and run `pipegen generate`" if not submodules else
               "check them out (`git submodule update --init --recursive`) and run again")
        return message + (f": {failed} of {total} tests failed, and the repository's git submodules are not checked "
                          f"out ({', '.join(missing)}): the tests need them; {why}")
    names = [name for count in counts for name in count[2]]
    named = ", ".join(names[:MAX_NAMED]) + (f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else "")
    return message + (f": the project's own tests fail as written here ({failed} of {total} failed"
                      + (f": {named}" if named else "") + f"; Python {python}). That is the repository's state "
                      "on this machine, not pipegen's set-up: run the same tests without pipegen to confirm")
