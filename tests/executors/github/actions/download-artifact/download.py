"""TEST FIXTURE: the body of the actions/download-artifact stand-in (see action.yml beside it)."""
import fnmatch
import os
import re
import shutil
import sys
from pathlib import Path


def copy(source: Path, destination: Path) -> int:
    shutil.copytree(source, destination, dirs_exist_ok=True)
    return sum(1 for path in source.rglob("*") if path.is_file())


def brace_alternatives(pattern: str) -> list[str]:
    """The globs a pattern stands for after brace expansion, as the real action's minimatch expands
    `{a,b}` (one level: what pipegen writes), before each is matched like a glob."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if not match:
        return [pattern]
    return [expanded for choice in match.group(1).split(",")
            for expanded in brace_alternatives(pattern[:match.start()] + choice + pattern[match.end():])]


def main() -> int:
    artifacts = Path(os.environ["ACT_STANDIN_ARTIFACTS"])
    destination = Path(os.environ.get("ARTIFACT_DESTINATION") or ".")
    name = os.environ.get("ARTIFACT_NAME", "")
    if name:
        source = artifacts / name
        if not source.is_dir():
            print(f"::error::Unable to download artifact(s): Artifact not found for name: {name}")
            return 1
        count = copy(source, destination)
        print(f"download-artifact stand-in (test fixture): {count} file(s) of artifact {name!r} into {destination}")
        return 0
    pattern = os.environ.get("ARTIFACT_PATTERN", "") or "*"
    merge = os.environ.get("ARTIFACT_MERGE_MULTIPLE", "false") == "true"
    globs = brace_alternatives(pattern)
    names = sorted(path.name for path in artifacts.iterdir()
                   if path.is_dir() and any(fnmatch.fnmatchcase(path.name, glob) for glob in globs))
    count = sum(copy(artifacts / found, destination if merge else destination / found) for found in names)
    # The real action finds nothing to download without failing: it says so.
    print(f"download-artifact stand-in (test fixture): {count} file(s) of {len(names)} artifact(s) matching "
          f"{pattern!r} into {destination}{' (merged)' if merge else ''}: {', '.join(names) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
