"""What `pipegen run` keeps in .pipegen/run/ between runs: each job's last status and
outputs (so `--stage prod` after `--stage qa` reads QA's MODEL_VERSION and IMAGE_REF), the
files each passed job handed over (a saved Terraform plan for the apply job), the last run's
summary (JSON), and the job logs."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipegen.generate.files import atomic_write

RUN_DIR = Path(".pipegen") / "run"
STATE_FILE = "state.json"
SUMMARY_FILE = "last-run.json"
LOGS = "logs"
HANDOVER = "handover"


@dataclass
class JobRecord:
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    commit: str = ""


@dataclass
class State:
    directory: Path
    jobs: dict[str, JobRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, project_dir: Path) -> "State":
        directory = project_dir / RUN_DIR
        state = cls(directory)
        try:
            data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
            for job_id, record in data.get("jobs", {}).items():
                outputs = {str(name): str(value) for name, value in record.get("outputs", {}).items()}
                state.jobs[job_id] = JobRecord(str(record["status"]), outputs, str(record.get("commit", "")))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass  # no earlier run, or an unreadable file: as if nothing ran before
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
        atomic_write(path, json.dumps(summary, indent=2) + "\n")
        return path

    def logs(self) -> Path:
        return self.directory / LOGS

    def handover(self, job_id: str) -> Path:
        """Where the files `job_id` handed over in its last passed run are kept."""
        return self.directory / HANDOVER / job_id
