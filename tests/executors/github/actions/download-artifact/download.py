"""TEST FIXTURE: the body of the actions/download-artifact stand-in (see action.yml beside it)."""
import os
import shutil
import sys
from pathlib import Path


def main() -> int:
    name = os.environ["ARTIFACT_NAME"]
    source = Path(os.environ["ACT_STANDIN_ARTIFACTS"]) / name
    if not source.is_dir():
        print(f"::error::Unable to download artifact(s): Artifact not found for name: {name}")
        return 1
    destination = Path(os.environ.get("ARTIFACT_DESTINATION") or ".")
    shutil.copytree(source, destination, dirs_exist_ok=True)
    count = sum(1 for path in source.rglob("*") if path.is_file())
    print(f"download-artifact stand-in (test fixture): {count} file(s) of artifact {name!r} into {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
