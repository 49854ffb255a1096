"""The one safe reader (pipegen.paths): regular files only, nothing under /proc, /sys or /dev,
symlinks only while they stay in the repository (or a PIPEGEN_ALLOW_READ folder), a size cap,
UTF-8 checked; each refusal of the class the caller asks for, naming the file."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import make_repo
from pipegen import paths
from pipegen.errors import EvaluationError, UsageError


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    (root / "data.txt").write_text("inside\n", encoding="utf-8")
    (root / "sub").mkdir()
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("SECRET=1\n", encoding="utf-8")
    return tmp_path / "outside"


def test_a_file_and_a_link_that_stays_inside_are_read(repo):
    (repo / "sub" / "link.txt").symlink_to("../data.txt")
    assert paths.read_text(repo / "data.txt") == "inside\n"
    assert paths.read_text(repo / "sub" / "link.txt") == "inside\n"
    with paths.open_binary(repo / "sub" / "link.txt") as stream:
        assert stream.read() == b"inside\n"


def test_a_link_out_of_the_repository_is_refused_unless_allowed(repo, outside, monkeypatch):
    (repo / "link.txt").symlink_to(outside / "secret.txt")
    (repo / "linked-folder").symlink_to(outside)
    for path in (repo / "link.txt", repo / "linked-folder" / "secret.txt"):
        with pytest.raises(EvaluationError, match="leads outside the repository"):
            paths.read_bytes(path, error=EvaluationError)
    monkeypatch.setenv(paths.ALLOW_READ_VARIABLE, f"/nowhere{os.pathsep}{outside}")
    assert paths.read_text(repo / "link.txt") == "SECRET=1\n"


def test_a_path_named_outside_any_repository_is_read_where_it_is(outside):
    assert paths.read_text(outside / "secret.txt") == "SECRET=1\n"


@pytest.mark.parametrize("target", ["/proc/self/environ", "/proc/self/cmdline", "/sys/kernel/hostname", "/dev/null"])
def test_system_trees_are_refused_named_or_linked(repo, target):
    with pytest.raises(UsageError, match="pipegen reads only regular files"):
        paths.read_bytes(Path(target))
    (repo / "link").symlink_to(target)
    with pytest.raises(UsageError, match=f"a link to /{target.split('/')[1]}/"):
        paths.read_bytes(repo / "link")


def test_fifos_and_folders_are_refused_unopened(repo):
    os.mkfifo(repo / "fifo")
    with pytest.raises(EvaluationError, match="is a FIFO"):
        paths.open_binary(repo / "fifo", error=EvaluationError)
    with pytest.raises(UsageError, match="is a directory"):
        paths.read_bytes(repo / "sub")
    with pytest.raises(UsageError, match="no such file"):
        paths.read_bytes(repo / "missing")


def test_the_size_cap_and_utf8(repo):
    (repo / "big.txt").write_bytes(b"x" * 2048)
    with pytest.raises(EvaluationError, match="big.txt is larger than 1 KiB"):
        paths.read_bytes(repo / "big.txt", 1024, error=EvaluationError)
    with pytest.raises(EvaluationError, match="larger than 1 KiB"):
        paths.open_binary(repo / "big.txt", 1024, error=EvaluationError)
    (repo / "latin.txt").write_bytes(b"ok\ncaf\xe9\n")
    with pytest.raises(EvaluationError, match=r"latin.txt:2:4: not UTF-8 text \(byte 0xe9\)"):
        paths.read_text(repo / "latin.txt", error=EvaluationError)


def test_append_text_refuses_what_would_block(repo):
    paths.append_text(repo / "summary.md", "one\n")
    paths.append_text(repo / "summary.md", "two\n")
    assert (repo / "summary.md").read_text(encoding="utf-8") == "one\ntwo\n"
    os.mkfifo(repo / "fifo.md")
    with pytest.raises(UsageError, match="fifo.md"):
        paths.append_text(repo / "fifo.md", "x")


def test_the_repository_of_a_path(repo, outside):
    assert paths.repository_of(repo / "sub" / "deep" / "file") == repo
    assert paths.repository_of(outside / "secret.txt") != repo
    assert paths.repository_of(Path("/no-repository-here/file")) == Path("/no-repository-here")


def test_a_socket_a_nul_and_a_name_too_long_are_refusals_not_tracebacks(repo):
    import socket  # pylint: disable=import-outside-toplevel

    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(repo / "sock"))
        with pytest.raises(UsageError, match="is a socket"):
            paths.read_bytes(repo / "sock")
    with pytest.raises(EvaluationError, match="cannot read"):
        paths.read_bytes(repo / "a\0b", error=EvaluationError)
    with pytest.raises(EvaluationError, match="cannot read"):
        paths.read_bytes(repo / ("x" * 300), error=EvaluationError)
    with pytest.raises(UsageError, match="is a directory"):
        paths.append_text(repo / "sub", "x")
    assert paths.repository_of(repo / ("y" * 300) / "z") == repo
