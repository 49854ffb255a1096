"""The DAG integrity gate: a DAG folder loaded by real Airflow (the job's Python, where
apache-airflow and the DAGs' providers are installed) must import cleanly, file by file, with
no cycle and no dag_id twice, and keep the descriptor's rules (owner, tags, retries, catchup).

Airflow runs in a child process (`dags_probe.py`): pipegen's own environment never holds it.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipegen.errors import EvaluationError
from pipegen.gates.result import Condition, GateResult, Status

PROBE = Path(__file__).resolve().with_name("dags_probe.py")
DEFAULT_OWNER = "airflow"  # Airflow's [operators] default_owner: a task nobody owns
PROBE_TIMEOUT = 900  # seconds: Airflow's import alone takes several


@dataclass(frozen=True)
class Rules:
    owner: bool = False
    tags: bool = False
    min_retries: int = 0
    catchup_needs_start_date: bool = True


@dataclass(frozen=True)
class Finding:
    file: str
    kind: str  # import | cycle | duplicate
    message: str

    @property
    def short(self) -> str:
        """The error's last line (a traceback's exception), cut to a readable length."""
        lines = [line.strip() for line in self.message.strip().splitlines() if line.strip()]
        text = lines[-1] if lines else "failed to import"
        return text if len(text) <= 200 else text[:197] + "..."


def classify(message: str) -> str:
    if "Cycle detected" in message or "DagCycle" in message:
        return "cycle"
    if "DuplicatedId" in message or "also found in" in message:
        return "duplicate"
    return "import"


def load(folder: Path, python: str = "python", environ: dict | None = None) -> dict:
    """What Airflow found in `folder`: files, DAGs (with owners, tags, retries) and import errors."""
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: no such DAG folder")
    with tempfile.TemporaryDirectory(prefix="pipegen-dags-") as scratch:
        output = Path(scratch) / "found.json"
        env = dict(os.environ if environ is None else environ)
        # A throwaway AIRFLOW_HOME unless the job set one; the folder itself on Airflow's path (its
        # helper modules import as the scheduler would import them); no .pyc written into a
        # deployed folder; no example DAGs.
        env.setdefault("AIRFLOW_HOME", str(Path(scratch) / "airflow-home"))
        env.update({"AIRFLOW__CORE__DAGS_FOLDER": str(folder.resolve()), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    "PYTHONDONTWRITEBYTECODE": "1"})
        # Run from a folder of its own: Python puts the script's folder first on sys.path, and
        # pipegen's modules there (numbers.py) would shadow the standard library's.
        probe = Path(scratch) / PROBE.name
        probe.write_bytes(PROBE.read_bytes())
        try:
            done = subprocess.run([python, str(probe), str(folder.resolve()), str(output)], env=env,
                                  capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False)
        except FileNotFoundError:
            raise EvaluationError(f"{python}: no such Python to load the DAGs with") from None
        except subprocess.TimeoutExpired:
            raise EvaluationError(f"loading the DAGs took longer than {PROBE_TIMEOUT} s") from None
        if done.returncode != 0 or not output.is_file():
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise EvaluationError(f"Airflow could not load {folder} with {python}: {detail}")
        return json.loads(output.read_text(encoding="utf-8"))


def _count(metric: str, offenders: list[str], detail: str = "") -> Condition:
    shown = ", ".join(offenders[:10]) + (f" and {len(offenders) - 10} more" if len(offenders) > 10 else "")
    return Condition(metric, "==", 0, len(offenders), Status.FAIL if offenders else Status.PASS,
                     shown or detail)


def _rule_offenders(dags: list[dict], rules: Rules) -> list[tuple[str, list[str]]]:
    checks = []
    if rules.owner:
        checks.append(("tasks without an owner", [
            f"{dag['dag_id']}.{task['task_id']}" for dag in dags for task in dag["tasks"]
            if task["owner"].strip() in ("", DEFAULT_OWNER)]))
    if rules.tags:
        checks.append(("DAGs without tags", [dag["dag_id"] for dag in dags if not dag["tags"]]))
    if rules.min_retries:
        checks.append((f"tasks with fewer than {rules.min_retries} retries", [
            f"{dag['dag_id']}.{task['task_id']}" for dag in dags for task in dag["tasks"]
            if task["retries"] < rules.min_retries]))
    if rules.catchup_needs_start_date:
        checks.append(("catchup=True without start_date", [
            dag["dag_id"] for dag in dags if dag["catchup"] and not dag["start_date"]]))
    return checks


def evaluate_found(found: dict, rules: Rules, where: str) -> GateResult:
    findings = [Finding(error["file"], classify(error["message"]), error["message"]) for error in found["errors"]]
    result = GateResult(gate="dags")
    by_kind = {kind: [finding for finding in findings if finding.kind == kind]
               for kind in ("import", "cycle", "duplicate")}
    result.conditions.append(_count("files failing to import", [f.file for f in by_kind["import"]]))
    result.conditions.append(_count("DAGs with a cycle", [f.file for f in by_kind["cycle"]]))
    result.conditions.append(_count("duplicate dag_ids", [f.file for f in by_kind["duplicate"]]))
    dags = found["dags"]
    result.conditions.append(Condition("DAGs loaded", ">=", 1, len(dags), Status.PASS if dags else Status.FAIL,
                                       f"{len(found['files'])} file(s) in {where}"))
    for metric, offenders in _rule_offenders(dags, rules):
        result.conditions.append(_count(metric, offenders))
    result.notes += [f"{finding.file}: {finding.short}" for finding in findings]
    loaded = ", ".join(sorted(dag["dag_id"] for dag in dags)) or "no DAG"
    result.notes.append(f"Airflow {found.get('airflow', '?')}: {loaded}")
    result.data = {"folder": where, "airflow": found.get("airflow"), "dags": dags,
                   "errors": [{"file": f.file, "kind": f.kind, "message": f.message} for f in findings]}
    return result


def evaluate(folder: Path, rules: Rules, python: str = "python", shown: str | None = None) -> GateResult:
    return evaluate_found(load(folder, python), rules, shown or str(folder))
