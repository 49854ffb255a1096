"""Syncing a DAG folder: the target becomes exactly the repository's DAG folder. A mounted
path is mirrored here (files written atomically, so the scheduler never reads half a file;
files the repository no longer has removed; nothing outside the target touched, no link
followed); a bucket through its cloud's own CLI, which mirrors the same way."""
from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipegen.errors import EvaluationError, UsageError
from pipegen.paths import inside

# Never copied, never removed: what Python and Airflow write next to the DAGs themselves.
SKIPPED = ("__pycache__",)
# Each cloud's documented mirror (deletes what the source no longer has) and its copy back.
BUCKET_SYNC = {
    "gs": ["gcloud", "storage", "rsync", "--recursive", "--delete-unmatched-destination-objects",
           "--exclude", r"(^|.*/)__pycache__/.*"],
    "s3": ["aws", "s3", "sync", "--delete", "--exclude", "*__pycache__/*"],
}
BUCKET_FETCH = {
    "gs": ["gcloud", "storage", "rsync", "--recursive"],
    "s3": ["aws", "s3", "sync"],
}


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # links and special files in the source

    def lines(self) -> list[str]:
        lines = [f"copied {len(self.copied)}, unchanged {self.unchanged}, removed {len(self.removed)}"]
        lines += [f"  copied  {name}" for name in self.copied]
        lines += [f"  removed {name}" for name in self.removed]
        lines += [f"  skipped {name} (not a regular file)" for name in self.skipped]
        return lines


def bucket_scheme(target: str) -> str | None:
    scheme, sep, _ = target.partition("://")
    if not sep:
        return None
    if scheme not in BUCKET_SYNC:
        raise UsageError(f"{target}: DAG folders sync to a path, gs:// or s3://, not {scheme}://")
    return scheme


def _source_files(source: Path, report: SyncReport) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(name for name in dirs if name not in SKIPPED and not (Path(root) / name).is_symlink())
        for name in sorted(names):
            path = Path(root) / name
            relative = path.relative_to(source).as_posix()
            if path.is_symlink() or not path.is_file():
                report.skipped.append(relative)
                continue
            files[relative] = path
    return files


def _target_entries(target: Path) -> tuple[list[str], list[str]]:
    """(files and links, folders) under the target, relative, links never followed."""
    entries, folders = [], []
    for root, dirs, names in os.walk(target):
        base = Path(root)
        links = [name for name in dirs if (base / name).is_symlink()]
        dirs[:] = [name for name in dirs if name not in SKIPPED and name not in links]
        folders += [(base / name).relative_to(target).as_posix() for name in dirs]
        entries += [(base / name).relative_to(target).as_posix() for name in [*names, *links]]
    return entries, folders


def _copy(source: Path, destination: Path) -> None:
    """Written beside the destination and renamed over it: readers see the old or the new file."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".pipegen-", suffix=".tmp")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def mirror(source: Path, target: Path) -> SyncReport:
    """Makes the folder `target` hold exactly `source`'s files."""
    source_real, target_real = source.resolve(), Path(os.path.abspath(target))
    if not source_real.is_dir():
        raise UsageError(f"{source}: no such DAG folder")
    if target_real == source_real or source_real in target_real.parents or target_real in source_real.parents:
        raise UsageError(f"{target}: the target and the DAG folder {source} contain each other")
    if target.is_symlink():
        raise UsageError(f"{target}: the target is a link; name the folder itself")
    if not target_real.parent.is_dir():
        raise UsageError(f"{target}: its parent folder does not exist (the sync creates the DAG folder only)")
    target_real.mkdir(exist_ok=True)
    report = SyncReport()
    wanted = _source_files(source_real, report)
    for relative, path in wanted.items():
        destination = target_real / relative
        if destination.is_file() and not destination.is_symlink() and filecmp.cmp(path, destination, shallow=False):
            report.unchanged += 1
            continue
        if destination.is_symlink() or (destination.exists() and not destination.is_file()):
            _remove(destination)
        _copy(path, destination)
        report.copied.append(relative)
    entries, folders = _target_entries(target_real)
    for relative in sorted(entries):
        if relative not in wanted:
            _remove(target_real / relative)
            report.removed.append(relative)
    for relative in sorted(folders, key=lambda name: name.count("/"), reverse=True):
        folder = target_real / relative
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return report


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _run(argv: list[str]) -> None:
    try:
        done = subprocess.run(argv, check=False)
    except FileNotFoundError:
        raise EvaluationError(f"{argv[0]} is not on PATH: the runner needs the cloud's CLI to sync a bucket") from None
    if done.returncode != 0:
        raise EvaluationError(f"{' '.join(argv[:3])} ... exited with {done.returncode}")


def sync(source: str, target: str, root: Path) -> list[str]:
    """Syncs the repository's DAG folder `source` (inside `root`) to `target`; report lines."""
    folder = inside(root, source)
    scheme = bucket_scheme(target)
    if scheme is None:
        if not target.startswith("/"):
            raise UsageError(f"{target!r}: the DAG folder target is an absolute path, gs:// or s3://")
        return mirror(folder, Path(target)).lines()
    if not folder.is_dir():
        raise UsageError(f"{source}: no such DAG folder")
    _run([*BUCKET_SYNC[scheme], str(folder), target])
    return [f"synced {source} to {target} with {BUCKET_SYNC[scheme][0]}"]


def fetch(target: str, destination: Path) -> Path:
    """A bucket's DAG folder copied to `destination`, to load it as deployed."""
    scheme = bucket_scheme(target)
    if scheme is None:
        return Path(target)
    _run([*BUCKET_FETCH[scheme], target, str(destination)])
    return destination
