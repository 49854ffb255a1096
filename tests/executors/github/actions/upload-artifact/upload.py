"""TEST FIXTURE: the body of the actions/upload-artifact stand-in (see action.yml beside it)."""
import glob
import os
import shutil
import sys
from pathlib import Path


def matched_files(patterns: list[str]) -> list[Path]:
    files: list[Path] = []
    for pattern in patterns:
        for match in sorted(glob.glob(pattern, recursive=True)) or []:
            path = Path(match).resolve()
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return sorted(set(files))


def root_of(patterns: list[str]) -> Path:
    """The least common ancestor of the inputs: a single folder is its own root."""
    bases = [Path(glob.glob(pattern)[0]).resolve() for pattern in patterns if glob.glob(pattern)]
    if len(bases) == 1:
        return bases[0] if bases[0].is_dir() else bases[0].parent
    return Path(os.path.commonpath([base if base.is_dir() else base.parent for base in bases]))


def main() -> int:
    name = os.environ["ARTIFACT_NAME"]
    patterns = [line.strip() for line in os.environ["ARTIFACT_PATHS"].splitlines() if line.strip()]
    files = matched_files(patterns)
    if not files:
        message = f"No files were found with the provided path: {', '.join(patterns)}. No artifacts will be uploaded."
        policy = os.environ.get("IF_NO_FILES_FOUND", "warn")
        if policy == "error":
            print(f"::error::{message}")
            return 1
        if policy == "warn":
            print(f"::warning::{message}")
        return 0
    target = Path(os.environ["ACT_STANDIN_ARTIFACTS"]) / name
    if target.exists():
        if os.environ.get("OVERWRITE", "false") != "true":
            print(f"::error::Failed to CreateArtifact: an artifact with this name already exists: {name}")
            return 1
        shutil.rmtree(target)
    root = root_of(patterns)
    for file in files:
        destination = target / file.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)
    print(f"upload-artifact stand-in (test fixture): {len(files)} file(s) as artifact {name!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
