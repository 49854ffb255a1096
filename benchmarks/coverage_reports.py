"""Large Cobertura reports and a git repository with a change, for the coverage gate's
benchmark: the report has the shape `coverage xml` writes (absolute <source>, one
<package> per folder, one <class> per file, <line number hits [branch condition-coverage]>),
grown to the size asked for; the repository changes one measured file against `main`."""
from __future__ import annotations

import subprocess
from pathlib import Path

CHANGED = "pkg0000/changed.py"  # relative to the <source> folder, src/
CHANGED_LINES = range(1, 41)  # the lines the change adds
LINES_PER_FILE = 200


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _class_xml(filename: str, covered_every: int, lines: int = LINES_PER_FILE) -> str:
    rows = []
    for number in range(1, lines + 1):
        hits = 1 if number % covered_every else 0
        if number % 10 == 0:
            rows.append(f'<line number="{number}" hits="{hits}" branch="true" '
                        f'condition-coverage="{50 if hits else 0}% ({hits}/2)"/>')
        else:
            rows.append(f'<line number="{number}" hits="{hits}"/>')
    name = filename.rsplit("/", 1)[-1]
    return (f'<class name="{name}" filename="{filename}" complexity="0" line-rate="0.8" branch-rate="0.5">'
            f"<methods/><lines>{''.join(rows)}</lines></class>")


def write_report(path: Path, source: Path, megabytes: float) -> int:
    """Writes a report of about `megabytes` MB; returns the number of files in it."""
    per_file = len(_class_xml("pkg0000/mod0000.py", 4).encode())
    files = max(2, int(megabytes * 1_000_000 / per_file))
    lines_valid = files * LINES_PER_FILE
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" ?>\n')
        out.write(f'<coverage version="7.6.1" timestamp="1732780800000" lines-valid="{lines_valid}" '
                  f'lines-covered="{lines_valid * 3 // 4}" line-rate="0.75" branches-covered="0" '
                  f'branches-valid="0" branch-rate="0" complexity="0">\n')
        out.write(f"<sources><source>{source}</source></sources>\n<packages>\n")
        for index in range(files):
            package = f"pkg{index // 100:04d}"
            if index % 100 == 0:
                if index:
                    out.write("</classes></package>\n")
                out.write(f'<package name="{package}" line-rate="0.75" branch-rate="0" complexity="0"><classes>')
            filename = CHANGED if index == 0 else f"{package}/mod{index:06d}.py"
            out.write(_class_xml(filename, covered_every=3 if index == 0 else 4))
        out.write("</classes></package>\n</packages>\n</coverage>\n")
    return files


def make_repo(root: Path, megabytes: float) -> Path:
    """A git repository whose `main` has src/CHANGED, a working branch that adds
    CHANGED_LINES to it, and coverage.xml of about `megabytes` MB."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "bench@example.com")
    _git(root, "config", "user.name", "bench")
    changed = root / "src" / CHANGED
    changed.parent.mkdir(parents=True)
    changed.write_text("", encoding="utf-8")
    (root / ".gitignore").write_text("coverage.xml\npipegen-reports/\n", encoding="utf-8")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "base")
    _git(root, "checkout", "-q", "-b", "change")
    changed.write_text("".join(f"value_{number} = {number}\n" for number in CHANGED_LINES), encoding="utf-8")
    _git(root, "commit", "-q", "-am", "change")
    write_report(root / "coverage.xml", root / "src", megabytes)
    return root
