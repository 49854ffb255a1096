"""A real MLflow tracking server on loopback, for every test that needs a registry.

`mlflow server` on a SQLite backend in a temporary directory, started in its own process group
and stopped with that group (uvicorn runs workers as children). Startup takes ~10 s idle.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

STARTUP_LIMIT_SECONDS = 180  # ~10 s idle; a loaded 2-core machine takes far longer


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stops the server's whole process group."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_mlflow_server(root: Path) -> Iterator[str]:
    """Yields the tracking URI of a healthy `mlflow server`; database, artifacts and log under `root`."""
    url = f"http://127.0.0.1:{free_port()}"
    # No job runner: MLflow 3 otherwise starts a huey consumer pool (eight more MLflow-importing
    # processes) for server-side jobs that no test uses.
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [sys.executable, "-m", "mlflow", "server",
               "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
               "--artifacts-destination", str(root / "artifacts"),
               "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1], "--workers", "1"]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (root / "server.log").read_text(errors="replace")[-3000:]
                raise ServerDidNotStart(f"mlflow server did not become healthy at {url}:\n{tail}")
            time.sleep(0.25)
        yield url
    finally:
        _stop(process)
