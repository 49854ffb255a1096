"""`pipegen diff` reading each platform in its own worker process gives what reading them one
after the other gives: the same JSON, exit code and message, on the same repositories (the
paths are forced by the threshold; the figures that choose between them live in benchmarks/)."""
from __future__ import annotations

import json

import pytest

from helpers import run_pipegen
from pipegen.diff import compare

from test_diff_command import project, regenerate  # noqa: F401  # pylint: disable=unused-import  # the fixture

SEQUENTIAL, PARALLEL = "sequential", "parallel"


def both_ways(monkeypatch: pytest.MonkeyPatch, capsys, *args: str):
    """The command's result read one platform after the other, then in workers; and how many
    times workers were started in each."""
    started: list[int] = []
    in_workers = compare._in_workers  # pylint: disable=protected-access

    def counted(*call_args):
        started.append(call_args[-1])
        return in_workers(*call_args)

    monkeypatch.setattr(compare, "_in_workers", counted)
    monkeypatch.setattr(compare.os, "cpu_count", lambda: 2)  # a one-core runner still forks two workers
    results = {}
    for way, threshold in ((SEQUENTIAL, 10 ** 12), (PARALLEL, 0)):
        monkeypatch.setattr(compare, "PARALLEL_FROM_CHARACTERS", threshold)
        results[way] = run_pipegen(capsys, "diff", "--compare-branch", "main", *args)
    return results[SEQUENTIAL], results[PARALLEL], started


def test_a_regenerated_change_reads_the_same_in_workers(project, capsys, monkeypatch) -> None:  # noqa: F811
    root, _ = project
    regenerate(capsys, root, "coverage: {min: 80, diff_min: 90}", "coverage: {min: 70, diff_min: 90}")
    regenerate(capsys, root, "    approval: {approvers: [release-managers]}\n", "    approval: false\n")
    sequential, parallel, started = both_ways(monkeypatch, capsys, "--json", "--fail-on", "risky")
    assert started == [2]  # the sequential run started none
    assert (parallel.exit_code, parallel.out, parallel.err) == (sequential.exit_code, sequential.out, sequential.err)
    assert sequential.exit_code == 1
    changes = json.loads(sequential.out)["changes"]
    said = {platform for change in changes for platform in change["platforms"]}
    assert said == {"github", "gitlab", "azure", "jenkins"}


def test_hand_edits_and_a_removed_file_read_the_same_in_workers(project, capsys, monkeypatch) -> None:  # noqa: F811
    root, _ = project
    workflow = root / ".github" / "workflows" / "pipegen.yml"
    text = workflow.read_text(encoding="utf-8")
    assert "    environment: prod\n" in text
    workflow.write_text(text.replace("    environment: prod\n", "", 1), encoding="utf-8")
    jenkinsfile = root / "Jenkinsfile"
    jenkinsfile.write_text(jenkinsfile.read_text(encoding="utf-8").replace("timeout(time: ", "timeout(time: 1"),
                           encoding="utf-8")
    (root / "azure-pipelines.yml").unlink()
    sequential, parallel, started = both_ways(monkeypatch, capsys, "--json")
    assert started == [2]
    assert (parallel.exit_code, parallel.out, parallel.err) == (sequential.exit_code, sequential.out, sequential.err)
    changes = json.loads(sequential.out)["changes"]
    assert {platform for change in changes for platform in change["platforms"]} == {"github", "azure", "jenkins"}


def test_the_first_unreadable_platform_is_named_the_same_in_workers(project, capsys, monkeypatch) -> None:  # noqa: F811
    root, _ = project
    (root / "Jenkinsfile").write_text("pipeline { stages { stage('x') { steps { sh(label: 'a', script: ", "utf-8")
    (root / ".gitlab-ci.yml").write_text("stages: [test\n", "utf-8")
    sequential, parallel, started = both_ways(monkeypatch, capsys)
    assert started == [2]
    assert (parallel.exit_code, parallel.out, parallel.err) == (sequential.exit_code, sequential.out, sequential.err)
    assert sequential.exit_code == 3 and "cannot read the gitlab pipeline" in sequential.err
