"""A repository that has never been pushed (a fresh `git init`, one commit on main, no remote):
`pipegen init` -> `pipegen generate` -> the TEST stage under `pipegen run` is green on day one, and on
a feature branch the changed-lines gates count against the local main: an untested function fails
the coverage gate, a lint issue on an added line fails the lint ratchet."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from .conftest import job_log, pipegen_run, run_environment
from .test_adoption import FIXTURES, change, git, jobs, pipegen

pytestmark = pytest.mark.slow

UNTESTED = '''

def longest(text: str) -> str:
    """The longest word (the first of equals)."""
    best = ""
    for word in words(text):
        if len(word) > len(best):
            best = word
    return best
'''
# A stray semicolon: flake8's E703 on a line the change adds.
LINT_ISSUE = '''

def shortest(text: str) -> str:
    """The shortest word."""
    return min(words(text), key=len);
'''


def never_pushed(tmp_path: Path) -> Path:
    """The fixture as a repository with one commit on main and no remote."""
    root = tmp_path / "no-remote-lib"
    shutil.copytree(FIXTURES / "no-remote-lib", root)
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
    for key, value in (("user.name", "t"), ("user.email", "t@pipegen.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "first commit")
    assert git(root, "remote") == ""
    return root


@pytest.mark.pipeline_scenario(minutes=3)
def test_a_repository_without_a_remote_is_green_on_day_one_and_compares_with_the_local_main(
        tmp_path, scenario_settings):
    root = never_pushed(tmp_path)
    init = pipegen(root, "init", "--target", "gitlab")
    assert init.returncode == 0, init.stdout + init.stderr
    descriptor = yaml.safe_load((root / "pipegen.yaml").read_text(encoding="utf-8"))
    assert descriptor["quality"]["coverage"]["compare_branch"] == "main"  # the branch that exists
    assert descriptor["quality"]["lint"] == {"tools": ["flake8"], "ratchet": ["changed-lines"]}  # E501 today
    generate = pipegen(root, "generate", "-q")
    assert generate.returncode == 0, generate.stdout + generate.stderr
    env = run_environment(**scenario_settings)

    # Day one, as a new user runs it: on main, pipegen.yaml and the pipeline not even committed.
    green = pipegen_run(root, "--stage", "test", env=env)
    assert green.returncode == 0, green.explain()
    assert green.statuses == {"pipegen-check": "passed", "lint": "passed", "unit": "passed"}, green.explain()
    assert "building main, the compare branch itself" in green.stdout  # pipegen run says what it compares with
    assert re.search(r"changed_lines_coverage .* SKIP .* against main itself", job_log(root, "unit"))

    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "adopt pipegen")
    git(root, "checkout", "--quiet", "-b", "feature")
    change(root, "src/wordcount/core.py", UNTESTED)
    untested = pipegen_run(root, *jobs("unit"), env=env)
    assert untested.statuses == {"unit": "failed"}, untested.explain()
    assert re.search(r"changed_lines_coverage .* FAIL .* changed lines covered against main", job_log(root, "unit"))
    assert "not covered: src/wordcount/core.py" in job_log(root, "unit")

    git(root, "reset", "--quiet", "--hard", "HEAD~1")
    change(root, "src/wordcount/core.py", LINT_ISSUE)
    unlinted = pipegen_run(root, *jobs("lint"), env=env)
    assert unlinted.statuses == {"lint": "failed"}, unlinted.explain()
    lint_log = job_log(root, "lint")
    assert re.search(r"flake8_issues_on_changed_lines .* FAIL .* lines changed against main", lint_log), lint_log
    flagged = re.findall(r"changed line: (\S+): (\w+)", lint_log)
    assert flagged and {code for _, code in flagged} == {"E703"}, lint_log  # main's own E501 is not the change's
