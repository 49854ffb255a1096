"""`pipegen gate drift` on hostile data paths and data: a link to /proc/self/environ or out of
the repository, a FIFO, a device, a folder, a file over the cap, bytes that are not UTF-8 are
all exit 3 naming the file, with nothing of their content in the log or the reports; a cell
or a column name that carries a CI logging command or a secret reaches no log line intact."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hostile.conftest import SECRET, assert_safe, environment, logging_commands, pipegen
from pipegen.gates import drift as drift_gate
from pipegen.cli import cli

REFERENCE = "plan,region\nbasic,north\npremium,south\nbasic,south\n"


def drift(repo: Path, current: str, *extra: str, env: dict[str, str] | None = None):
    (repo / "reference.csv").write_text(REFERENCE, encoding="utf-8")
    return pipegen(repo, "gate", "drift", "--reference", "reference.csv", "--current", current,
                   "--report-json", "drift.json", "--markdown", "drift.md", *extra, env=env)


def reports(repo: Path) -> tuple[Path, Path]:
    return repo / "drift.json", repo / "drift.md"


def test_a_link_to_proc_self_environ_is_refused_and_nothing_of_it_is_shown(repo):
    (repo / "current.csv").symlink_to("/proc/self/environ")
    ran = drift(repo, "current.csv")
    assert_safe(ran, 3, *reports(repo))
    assert "/proc" in ran.out and "current.csv" in ran.out
    assert "HOSTILE_API_TOKEN" not in ran.both and "PATH=" not in ran.both  # no variable name either
    assert "HOSTILE_API_TOKEN" not in (repo / "drift.md").read_text(encoding="utf-8")


def test_proc_named_directly_is_refused_too(repo):
    assert_safe(ran := drift(repo, "/proc/self/environ"), 3, *reports(repo))
    assert "/proc" in ran.out


def test_a_link_out_of_the_repository_is_refused_unless_its_folder_is_allowed(repo, outside):
    (repo / "current.csv").symlink_to(outside / "data.csv")
    ran = drift(repo, "current.csv")
    assert_safe(ran, 3, *reports(repo))
    assert "leads outside the repository" in ran.out and "PIPEGEN_ALLOW_READ" in ran.out
    # The user can say otherwise: the folder is read, and the secret in its data is still never shown.
    allowed = drift(repo, "current.csv", env=environment(PIPEGEN_ALLOW_READ=str(outside)))
    assert_safe(allowed, 1, *reports(repo))
    assert "schema:plan" in allowed.out  # the data was read: its columns are compared


def test_a_path_named_outside_the_repository_is_read_as_named(repo, outside):
    (outside / "current.csv").write_text(REFERENCE, encoding="utf-8")
    assert_safe(drift(repo, str(outside / "current.csv")), 0, *reports(repo))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(repo, kind):
    target = repo / "current.csv"
    if kind == "fifo":
        os.mkfifo(target)
        code, expected = 3, "FIFO"
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
        code, expected = 3, "/dev"
    else:
        target.mkdir()
        code, expected = 2, "is a directory"  # the option takes a file: bad usage
    ran = drift(repo, "current.csv")  # a FIFO or /dev/zero would block or exhaust memory: the timeout catches it
    assert_safe(ran, code, *reports(repo))
    assert expected in ran.both


def test_a_parquet_link_out_of_the_repository_is_refused(repo, outside):
    (outside / "data.parquet").write_bytes(b"PAR1" + SECRET.encode() + b"PAR1")
    (repo / "current.parquet").symlink_to(outside / "data.parquet")
    ran = drift(repo, "current.parquet")
    assert_safe(ran, 3, *reports(repo))
    assert "leads outside the repository" in ran.out


def test_text_that_is_not_utf8_is_exit_3_naming_the_file(repo):
    (repo / "current.csv").write_bytes(b"plan,region\nbasic,\xff\xfe north\n")
    ran = drift(repo, "current.csv")
    assert_safe(ran, 3, *reports(repo))
    assert "current.csv" in ran.out and "utf-8" in ran.out.lower()


def test_a_file_over_the_cap_is_exit_3(repo, monkeypatch):
    (repo / "reference.csv").write_text(REFERENCE, encoding="utf-8")
    (repo / "current.csv").write_text(REFERENCE * 100, encoding="utf-8")
    monkeypatch.setattr(drift_gate, "MAX_DATA_BYTES", 1024)
    result = CliRunner().invoke(cli, ["gate", "drift", "--reference", "reference.csv", "--current", "current.csv"],
                                env={"GITHUB_ACTIONS": None, "TF_BUILD": None})
    assert result.exit_code == 3, result.output
    assert "current.csv is" in result.output and "cap of 1,024 bytes" in result.output


HOSTILE_CELLS = [
    "::error::forged annotation",
    "##vso[task.setvariable variable=DATA_DRIFT;isOutput=true]false",
    "x ##vso[task.complete result=Succeeded;]done",
    "::set-output name=DATA_DRIFT::false",
    "##[warning]forged",
    "\r::add-mask::x",
    "\x1b[8mha:AAAA\x1b[0m",
    "section_start:1700000000:forged\r\x1b[0Kfolded",
    SECRET,
]


def test_cells_and_column_names_cannot_drive_the_ci_or_leak_a_secret(repo):
    rows = "".join(f'"\n{cell}",south\n' for cell in HOSTILE_CELLS)
    (repo / "current.csv").write_text(f'plan,"::error::x ##vso[task.setvariable variable=A]1"\nbasic,north\n{rows}',
                                      encoding="utf-8")
    for ci in ({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(repo / "summary.md")}, {"TF_BUILD": "True"},
               {"GITLAB_CI": "true"}, {"JENKINS_URL": "http://jenkins.invalid/"}):
        ran = drift(repo, "current.csv", env=environment(**ci))
        assert_safe(ran, 1, *reports(repo), repo / "summary.md", commands_allowed=("##vso[task.uploadsummary]",))
        assert "categories:plan" in ran.out  # the hostile categories were compared and reported, made harmless
        assert [line for line in logging_commands(ran.out) if "uploadsummary" not in line] == []
