"""Loads a DAG folder with Airflow's own DagBag and writes what it found as JSON.

Run by `pipegen gate dags` with the job's Python (where apache-airflow and the DAGs'
providers are installed), never imported by pipegen: it uses the standard library and
Airflow only. Usage: python dags_probe.py DAG_FOLDER OUTPUT_JSON. Exit 3: no Airflow.
"""
import json
import os
import sys
import tempfile


def _dagbag_class():
    try:  # Airflow 3.1+
        from airflow.dag_processing.dagbag import DagBag  # pylint: disable=import-outside-toplevel
    except ImportError:  # Airflow 2 and 3.0
        from airflow.models.dagbag import DagBag  # pylint: disable=import-outside-toplevel
    return DagBag


def _files(folder):
    """Every Python file and zip under the folder, as the scheduler would look at them."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(name for name in dirs if name != "__pycache__" and not name.startswith("."))
        found += [os.path.join(root, name) for name in sorted(names) if name.endswith((".py", ".zip"))]
    return found


def _dag(dag, folder):
    tasks = list(dag.tasks)
    return {
        "dag_id": dag.dag_id,
        "file": os.path.relpath(dag.fileloc, folder),
        "tags": sorted(str(tag) for tag in (dag.tags or ())),
        "catchup": bool(getattr(dag, "catchup", False)),
        "start_date": getattr(dag, "start_date", None) is not None,
        "tasks": [{"task_id": task.task_id, "owner": str(getattr(task, "owner", "") or ""),
                   "retries": int(getattr(task, "retries", 0) or 0)} for task in tasks],
    }


def main(folder, output):
    folder = os.path.abspath(folder)
    try:
        import airflow  # pylint: disable=import-outside-toplevel
        dagbag_class = _dagbag_class()
    except ImportError as exc:
        sys.stderr.write(f"apache-airflow cannot be imported by {sys.executable}: {exc}\n")
        return 3
    bag = dagbag_class(dag_folder=tempfile.mkdtemp(prefix="pipegen-empty-dags-"), safe_mode=False)
    found = []
    for path in _files(folder):
        found += [_dag(dag, folder) for dag in bag.process_file(path, only_if_updated=False, safe_mode=False) or ()]
    errors = [{"file": os.path.relpath(path, folder), "message": str(message)}
              for path, message in sorted(bag.import_errors.items())]
    with open(output, "w", encoding="utf-8") as handle:
        json.dump({"airflow": airflow.__version__, "files": [os.path.relpath(path, folder) for path in _files(folder)],
                   "dags": found, "errors": errors}, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
