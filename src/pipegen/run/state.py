"""What `pipegen run` keeps in .pipegen/run/ between runs: each job's last status and
outputs (so `--stage prod` after `--stage qa` reads QA's MODEL_VERSION and IMAGE_REF), the
files each passed job handed over (a saved Terraform plan for the apply job), the files each
job keeps as artifacts in CI (its reports, the build's SBOM: `artifacts/<job>/`, also when it
failed), the last run's summary (JSON), and the job logs.

Nothing outside that folder is touched: `.pipegen`, `.pipegen/run` and its `logs` and `handover`
must be real folders of the project (a symlink is refused, exit 2, before anything runs or is
deleted), and state.json is read through the one safe reader (pipegen.paths) and checked:
a value a job could not have published (a line break, a NUL) refuses the run."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipegen import paths, scrub
from pipegen.ci.outputs import NAME_PATTERN, check_output
from pipegen.errors import PipegenError, UsageError
from pipegen.generate.files import atomic_write

RUN_DIR = Path(".pipegen") / "run"
STATE_FILE = "state.json"
SUMMARY_FILE = "last-run.json"
LOGS = "logs"
HANDOVER = "handover"
ARTIFACTS = "artifacts"
MAX_STATE_BYTES = 16 * 1024 * 1024
_COMMIT = re.compile(r"[0-9a-f]{0,64}")


def run_directory(project_dir: Path) -> Path:
    """project_dir/.pipegen/run, each folder on the way (and its logs and hand-overs) a real
    folder or absent: a symlink there would make a run delete and write elsewhere."""
    current = Path(os.path.abspath(project_dir))
    checked = []
    for part in RUN_DIR.parts:
        current = current / part
        checked.append(current)
    checked += [current / LOGS, current / HANDOVER, current / ARTIFACTS]
    for folder in checked:
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(f"{folder} is {'a symlink' if folder.is_symlink() else 'not a folder'}: pipegen run "
                             "keeps its state and logs only in a real .pipegen/run/ folder of the project; "
                             "remove it and run again")
    return current


@dataclass
class JobRecord:
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    commit: str = ""


def _record(job_id: Any, record: Any) -> JobRecord:
    """One job's entry, as `save` writes it; anything else is a ValueError saying what."""
    if not isinstance(job_id, str) or not isinstance(record, dict) or not isinstance(record.get("status"), str):
        raise ValueError(f"job {scrub.neutralise(str(job_id))[:60]!r} has no status")
    outputs = record.get("outputs", {})
    if not isinstance(outputs, dict):
        raise ValueError(f"job {job_id}: outputs is not a mapping")
    for name, value in outputs.items():
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or not isinstance(value, str):
            raise ValueError(f"job {job_id}: an output is not NAME: text")
        try:
            check_output(name, value)
        except PipegenError as exc:
            raise ValueError(f"job {job_id}: {exc}") from None
    commit = record.get("commit", "")
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        raise ValueError(f"job {job_id}: commit is not a git commit id")
    return JobRecord(record["status"], dict(outputs), commit)


@dataclass
class State:
    directory: Path
    jobs: dict[str, JobRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, project_dir: Path) -> "State":
        """The state an earlier run saved; empty when there is none. A state file that is not
        one pipegen wrote (a FIFO, a link out of the project, a NUL in a value) is refused."""
        directory = run_directory(project_dir)
        state = cls(directory)
        path = directory / STATE_FILE
        if not os.path.lexists(path):
            return state
        data = paths.read_bytes(path, MAX_STATE_BYTES, root=directory)
        try:
            loaded = json.loads(data)
            jobs = loaded.get("jobs", {}) if isinstance(loaded, dict) else None
            if not isinstance(jobs, dict):
                raise ValueError("no jobs mapping")
            state.jobs = {job_id: _record(job_id, record) for job_id, record in jobs.items()}
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{path} is not a state file pipegen run wrote ({scrub.cut(str(exc), 120)}); "
                             "delete it to start afresh") from None
        return state

    def passed(self, job_id: str) -> bool:
        record = self.jobs.get(job_id)
        return record is not None and record.status == "passed"

    def record(self, job_id: str, status: str, outputs: dict[str, str], commit: str) -> None:
        self.jobs[job_id] = JobRecord(status, dict(outputs), commit)

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "jobs": {job_id: {"status": record.status, "outputs": record.outputs,
                                                "commit": record.commit}
                                       for job_id, record in sorted(self.jobs.items())}}
        atomic_write(self.directory / STATE_FILE, json.dumps(data, indent=2) + "\n")

    def write_summary(self, summary: dict[str, Any]) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / SUMMARY_FILE
        atomic_write(path, scrub.redact(json.dumps(summary, indent=2)) + "\n")
        return path

    def logs(self) -> Path:
        return self.directory / LOGS

    def handover(self, job_id: str) -> Path:
        """Where the files `job_id` handed over in its last passed run are kept."""
        return self.directory / HANDOVER / job_id

    def artifacts(self, job_id: str) -> Path:
        """Where the files `job_id` keeps as artifacts (its reports) from its last run are."""
        return self.directory / ARTIFACTS / job_id
