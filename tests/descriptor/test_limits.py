"""Hostile descriptors (issue 11, "Found: Descriptor"): each is refused with exit 2 and
one located line, before any alias can expand, any recursion can run away, or any
output can be written; and what `generate` would refuse, `validate` refuses first."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_pipegen
from pipegen.descriptor.yaml_positions import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES

HEAD = "project: {name: demo}\ntargets: [github]\n"


def billion_laughs(levels: int) -> str:
    lines = ['  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"  {name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return HEAD + "unknown:\n" + "\n".join(lines) + "\n"


def validate(capsys, tmp_path: Path, text: str | bytes):
    path = tmp_path / "pipegen.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return run_pipegen(capsys, "validate", "--descriptor", str(path))


def assert_one_located_line(result, line: int, col: int, needle: str) -> str:
    assert result.exit_code == 2, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, lines  # one message, no unlocated extra line
    file, found_line, found_col, message = lines[0].split(":", 3)
    assert file.endswith("pipegen.yaml")
    assert (int(found_line), int(found_col)) == (line, col), lines[0]
    assert needle in message, message
    return message


CASES = {
    # name: (text, line, col, what the message says)
    "recursive-alias": ("project: &p {name: x, self: *p}\ntargets: [github]\n", 1, 29, "recursive aliases"),
    "recursive-alias-in-list": (HEAD + "x: &l [a, [b, *l]]\n", 3, 15, "recursive aliases"),
    "deep-nesting": (HEAD + "x: " + "[" * 600 + "]" * 600 + "\n", 3, 3 + MAX_DEPTH, f"deeper than {MAX_DEPTH}"),
    "deep-block-nesting": (HEAD + "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_DEPTH + 5)),
                           3 + MAX_DEPTH - 1, 2 * (MAX_DEPTH - 1) + 1, f"deeper than {MAX_DEPTH}"),
    "bomb-7-levels": (billion_laughs(7), 9, 10, "alias bomb"),
    "too-many-aliases": (HEAD + "x: &x 1\ny: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", 4,
                         5 + 4 * MAX_ALIASES, f"more than {MAX_ALIASES} aliases"),
    "huge-int": (HEAD + "version: " + "9" * 5000 + "\n", 3, 10, "is not a valid !!int value"),
    "bool-maybe": (HEAD + "version: !!bool maybe\n", 3, 10, "maybe is not a valid !!bool value"),
    "int-abc": (HEAD + "version: !!int abc\n", 3, 10, "abc is not a valid !!int value"),
    "timestamp-key": ("!!timestamp version: 1\n" + HEAD, 1, 1, "version is not a valid !!timestamp value"),
    "bad-timestamp": (HEAD + "version: !!timestamp 2020-99-99\n", 3, 10, "is not a valid !!timestamp value"),
    "raw-control": (HEAD + "tests: {unit: \"a\x01b\"}\n", 3, 17, "U+0001 is not allowed"),
    "nul": (HEAD + "tests: {unit: a\x00b}\n", 3, 16, "U+0000 is not allowed"),
    "c1-control": (HEAD + "tests: {unit: \"a\\x98b\"}\n", 3, 15, "U+0098 is not allowed"),
    "line-separator": (HEAD + "tests: {unit: \"a\\u2028b\"}\n", 3, 15, "U+2028 is not allowed"),
    "lone-surrogate": (HEAD + "tests: {unit: \"a\\ud800b\"}\n", 3, 15, "U+D800 is not allowed"),
    "nan-threshold": (HEAD + "quality: {coverage: {min: .nan}}\n", 3, 27, "not a finite number"),
    "inf-threshold": (HEAD + "quality: {pylint: {min_score: -.inf}}\n", 3, 31, "not a finite number"),
    "tag-on-mapping": ("project: !!python/object/new:os.system {name: x}\ntargets: [github]\n", 1, 10,
                       "tag !!python/object/new:os.system on a mapping is not supported"),
    "tag-on-list": (HEAD.replace("[github]", "!!set [github]"), 2, 10, "on a list is not supported"),
    "python-tag-on-scalar": (HEAD + "version: !!python/name:os.system x\n", 3, 10, "could not determine a constructor"),
    "binary": (HEAD + "version: !!binary aGVsbG8=\n", 3, 10, "tag !!binary is not supported"),
    "trailing-newline-in-a-name": (HEAD + "jobs: [{name: j, stage: test, run: x, outputs: [\"OUT\\n\"]}]\n", 3, 49,
                                   "'OUT\\n' is not an environment variable name"),
    "trailing-newline-in-a-title": (HEAD + "jobs: [{name: j, stage: test, run: x, title: \"T\\n\"}]\n", 3, 46,
                                    "is not one line of text"),
    "trailing-newline-in-a-schedule": (HEAD + "triggers: {schedule: \"0 3 * * 1\\n\"}\n", 3, 22, "on one line"),
    "second-document": (HEAD + "---\nproject: {name: other}\n", 3, 1, "single document"),
    "undefined-alias": (HEAD + "x: *nowhere\n", 3, 4, "undefined alias"),
    "glob-prod-branch-on-github": (HEAD + "environments: {prod: {deploy: ./d.sh, branch: \"release/*\"}}\n", 3, 47,
                                   "GitHub Actions' job condition compares one branch name"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_descriptor_is_one_located_line(capsys, tmp_path: Path, name: str) -> None:
    text, line, col, needle = CASES[name]
    result = validate(capsys, tmp_path, text)
    assert_one_located_line(result, line, col, needle)


def test_a_nine_level_alias_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    """The 9-level bomb (10**9 strings once expanded) never finished before; now it is refused
    while being read. Run in a subprocess so a regression fails the test instead of hanging it."""
    path = tmp_path / "pipegen.yaml"
    path.write_text(billion_laughs(9), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pipegen", "validate", "--descriptor", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert f"more than {MAX_NODES} values once aliases are expanded" in done.stderr
    assert "Traceback" not in done.stderr


def test_aliases_within_the_limits_still_work(capsys, tmp_path: Path) -> None:
    text = HEAD + "jobs:\n  - {name: a, stage: test, run: &cmd ./run.sh}\n  - {name: b, stage: test, run: *cmd}\n"
    result = validate(capsys, tmp_path, text)
    assert result.exit_code == 0, result.err


def test_an_oversized_descriptor_is_refused_unparsed(capsys, tmp_path: Path) -> None:
    result = validate(capsys, tmp_path, HEAD + "# " + "x" * MAX_BYTES + "\n")
    assert_one_located_line(result, 1, 1, f"larger than {MAX_BYTES // 1024} KiB")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_is_refused_at_the_start(capsys, tmp_path: Path, encoding: str) -> None:
    data = HEAD.encode(encoding)
    if encoding != "utf-16":  # without a BOM: the first NUL byte is where it stops being YAML text
        result = validate(capsys, tmp_path, data)
        assert result.exit_code == 2 and len(result.err.splitlines()) == 1 and "pipegen.yaml:1:" in result.err
        return
    assert_one_located_line(validate(capsys, tmp_path, data), 1, 1, "UTF-16")


def test_invalid_utf8_is_located(capsys, tmp_path: Path) -> None:
    result = validate(capsys, tmp_path, HEAD.encode() + b"tests: {unit: caf\xe9}\n")
    assert_one_located_line(result, 3, 18, "not UTF-8 text (byte 0xe9)")


def test_a_utf8_bom_is_accepted(capsys, tmp_path: Path) -> None:
    assert validate(capsys, tmp_path, b"\xef\xbb\xbf" + HEAD.encode()).exit_code == 0


@pytest.mark.parametrize("text", [
    HEAD + "? " + "x" * 20_000 + "\n: 1\n",  # an unknown key
    HEAD + "tests: {unit: \"" + "\\x98" * 20_000 + "\"}\n",  # a control character
    HEAD.replace("[github]", "[" + "g" * 20_000 + "]"),  # enum
    HEAD.replace("demo}", "demo, python: '" + "3" * 20_000 + "'}"),  # pattern
])
def test_messages_cut_long_values(capsys, tmp_path: Path, text: str) -> None:
    result = validate(capsys, tmp_path, text)
    assert result.exit_code == 2
    assert all(len(line) < 500 for line in result.err.splitlines()), [len(line) for line in result.err.splitlines()]
    assert "more characters" in result.err or "U+0098" in result.err


def test_generate_refuses_a_glob_prod_branch_with_a_location_too(
        capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pipegen.yaml").write_text(CASES["glob-prod-branch-on-github"][0], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_pipegen(capsys, "generate")
    assert result.exit_code == 2
    assert result.err.startswith("pipegen.yaml:3:47: ")
    assert not (tmp_path / ".github").exists()


@pytest.mark.parametrize("target", ["gitlab", "azure", "jenkins"])
def test_a_glob_prod_branch_stays_allowed_where_the_platform_matches_globs(capsys, tmp_path: Path,
                                                                           target: str) -> None:
    text = CASES["glob-prod-branch-on-github"][0].replace("[github]", f"[{target}]")
    assert validate(capsys, tmp_path, text).exit_code == 0


def test_a_flood_of_problems_is_summarised(capsys, tmp_path: Path) -> None:
    result = validate(capsys, tmp_path, HEAD + "".join(f"unknown{index}: 1\n" for index in range(5000)))
    lines = result.err.splitlines()
    assert result.exit_code == 2 and len(lines) == 51
    assert lines[-1].endswith("pipegen.yaml: ... and 4950 more problems")
