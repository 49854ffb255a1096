"""`pipegen deploy airflow sync`: the target becomes exactly the DAG folder, nothing outside it is
touched; then the deployed folder is checked by real Airflow."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import run_pipegen

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dags"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "dags" / "sql").mkdir(parents=True)
    shutil.copy(FIXTURES / "good.py", root / "dags" / "good.py")
    (root / "dags" / "sql" / "load.sql").write_text("select 1;\n")
    monkeypatch.chdir(root)
    return root


def files(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): path.read_text() for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink()}


def test_the_target_mirrors_the_dag_folder_and_nothing_else_changes(repo: Path, tmp_path: Path, capsys) -> None:
    mount = tmp_path / "mount"
    target, neighbour = mount / "dags", mount / "plugins"
    target.mkdir(parents=True)
    neighbour.mkdir()
    (neighbour / "keep.py").write_text("kept\n")
    (target / "retired.py").write_text("a DAG the repository removed\n")
    (target / "good.py").write_text("an older version\n")
    (target / "__pycache__").mkdir()
    (target / "__pycache__" / "good.cpython-311.pyc").write_bytes(b"scheduler cache")
    outside = tmp_path / "secret.txt"
    outside.write_text("not ours\n")
    (target / "link.py").symlink_to(outside)

    result = run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", str(target))
    assert result.exit_code == 0, result.err
    assert files(target) == {**files(repo / "dags"), "__pycache__/good.cpython-311.pyc": "scheduler cache"}
    assert not (target / "link.py").exists() and outside.read_text() == "not ours\n"  # the link, not its file
    assert files(neighbour) == {"keep.py": "kept\n"}
    assert "copied 2, unchanged 0, removed 2" in result.out
    assert "  removed retired.py" in result.out.splitlines()
    again = run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", str(target))
    assert "copied 0, unchanged 2, removed 0" in again.out
    assert oct((target / "good.py").stat().st_mode & 0o777) == "0o644"


def test_a_link_in_the_dag_folder_is_not_deployed(repo: Path, tmp_path: Path, capsys) -> None:
    (repo / "dags" / "passwd.py").symlink_to("/etc/passwd")
    result = run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", str(tmp_path / "t"))
    assert result.exit_code == 0 and "skipped passwd.py (not a regular file)" in result.out
    assert not (tmp_path / "t" / "passwd.py").exists()


@pytest.mark.parametrize(("target", "message"), [
    ("relative/dags", "is an absolute path, gs:// or s3://"),
    ("{repo}/dags/inner", "contain each other"),
    ("{tmp}/no/such/parent/dags", "its parent folder does not exist"),
    ("ftp://host/dags", "not ftp://"),
])
def test_targets_that_would_touch_something_else_are_refused(repo: Path, tmp_path: Path, capsys, target: str,
                                                             message: str) -> None:
    named = target.format(repo=repo, tmp=tmp_path)
    result = run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", named)
    assert result.exit_code == 2 and message in result.err, result.err
    assert files(repo / "dags") == {"good.py": (FIXTURES / "good.py").read_text(), "sql/load.sql": "select 1;\n"}


def test_a_bucket_syncs_with_the_clouds_cli(repo: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    """gs:// runs `gcloud storage rsync`, with deletion, as documented (a recording stand-in here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "gcloud.log"
    (bin_dir / "gcloud").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "gcloud").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", "gs://composer/dags")
    assert result.exit_code == 0, result.err
    words = log.read_text().split()
    assert words[:4] == ["storage", "rsync", "--recursive", "--delete-unmatched-destination-objects"]
    assert words[-2:] == [str((repo / "dags").resolve()), "gs://composer/dags"]


GCLOUD = """#!/bin/sh
# TEST FIXTURE: `gcloud storage rsync [flags] SRC DST` over a folder standing for Cloud Storage ($FAKE_GCS).
set -eu
echo "$@" >> "$FAKE_GCS/calls.log"
for last; do :; done
src=""; dst="$last"
for word in "$@"; do case "$word" in gs://*|/*) [ "$word" = "$last" ] || src="$word";; esac; done
map() { case "$1" in gs://*) echo "$FAKE_GCS/${1#gs://}";; *) echo "$1";; esac; }
mkdir -p "$(map "$dst")"
cp -R "$(map "$src")/." "$(map "$dst")"
"""


@pytest.mark.slow
def test_a_bucket_target_is_checked_as_deployed(repo: Path, tmp_path: Path, capsys, monkeypatch,
                                                airflow_python: str) -> None:
    """The check after a bucket sync copies the deployed folder back with the cloud's CLI and loads it."""
    bin_dir, bucket = tmp_path / "bin", tmp_path / "gcs"
    bin_dir.mkdir()
    bucket.mkdir()
    (bin_dir / "gcloud").write_text(GCLOUD)
    (bin_dir / "gcloud").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GCS", str(bucket))
    assert run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target",
                       "gs://composer/dags").exit_code == 0
    assert (bucket / "composer" / "dags" / "good.py").is_file()
    checked = run_pipegen(capsys, "gate", "dags", "--dags", "gs://composer/dags", "--python", airflow_python)
    assert checked.exit_code == 0, checked.out + checked.err
    assert "1 file(s) in gs://composer/dags" in checked.out
    fetched = (bucket / "calls.log").read_text().splitlines()[-1].split()
    assert fetched[:3] == ["storage", "rsync", "--recursive"] and fetched[3] == "gs://composer/dags"


@pytest.mark.slow
def test_the_synced_folder_passes_the_dag_check(repo: Path, tmp_path: Path, capsys, airflow_python: str) -> None:
    target = tmp_path / "airflow" / "dags"
    target.parent.mkdir()
    assert run_pipegen(capsys, "deploy", "airflow", "sync", "--dags", "dags", "--target", str(target)).exit_code == 0
    checked = run_pipegen(capsys, "gate", "dags", "--dags", str(target), "--python", airflow_python, "--require-owner",
                          "--min-retries", "1")
    assert checked.exit_code == 0, checked.out + checked.err
    assert "good" in checked.out and not (target / "__pycache__").exists()  # nothing written into the DAG folder
