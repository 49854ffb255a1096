"""MLflow model registry access for the model gate and `pipegen model promote|rollback`
(`pipegen.model_registry.promotion`).

mlflow is an optional extra (`pipegen-ci[mlflow]`) and heavy to import, so it is imported
only inside the functions here, never at module level. Every MLflow failure becomes an
EvaluationError (exit 3) with one readable line, never a traceback.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, TypeVar
from urllib.parse import quote

from pipegen.errors import EvaluationError, PipegenError
from pipegen.gates.model import VersionMetrics

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
INSTALL_HINT = "pip install 'pipegen-ci[mlflow]'"
PREVIOUS_ALIAS = "previous-champion"

# MLflow retries HTTP calls 7 times with exponential backoff and waits 120 s per request:
# minutes before a CI job learns the server is down. These bounds answer in seconds; a
# value the user set in the environment wins.
HTTP_BOUNDS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


T = TypeVar("T")


def bound_http_retries(environ: os._Environ | dict | None = None) -> None:
    """Sets MLflow's HTTP retry/timeout bounds unless the user chose their own."""
    env = os.environ if environ is None else environ
    for name, value in HTTP_BOUNDS.items():
        env.setdefault(name, value)


def tracking_uri(uri_var: str = "MLFLOW_TRACKING_URI", explicit: str | None = None,
                 environ: Mapping[str, str] | None = None) -> str:
    """--tracking-uri, else the descriptor's variable, else the embedded SQLite default."""
    env = os.environ if environ is None else environ
    return explicit or env.get(uri_var) or DEFAULT_TRACKING_URI


# The last socket-level cause in a requests/urllib3 message, e.g. "[Errno 111] Connection refused".
_SOCKET_REASON = re.compile(r"(\[Errno -?\d+\][^'\")]*|Read timed out[^'\")]*|Connection aborted[^'\")]*)")


def short_reason(exc: BaseException) -> str:
    """One line for the log: the socket-level cause when there is one (MLflow wraps it in a
    long 'Max retries exceeded with url…' chain), else the message, shortened."""
    message = " ".join(str(exc).split())
    causes = _SOCKET_REASON.findall(message)
    if causes:
        return f"cannot reach the server ({causes[-1].strip()})"
    return message if len(message) <= 400 else message[:400] + "…"


def _quiet_mlflow_logging() -> None:
    # Database migrations and client chatter would bury the gate's table in the CI log.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def missing_sqlite_registry(uri: str) -> Path | None:
    """The file of an embedded SQLite registry that does not exist yet, else None."""
    path = _sqlite_path(uri)
    return path if path is not None and not path.exists() else None


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", 1)[0])


@dataclass(frozen=True)
class VersionInfo:
    """A registered version as promote needs it: its run and its tags."""

    version: str
    run_id: str | None
    tags: Mapping[str, str]


class Registry:
    """The few registry operations pipegen needs, with MLflow errors turned into
    EvaluationError. With `must_exist`, a missing SQLite file is an error: reading a
    registry that does not exist must say so, not silently start an empty one."""

    def __init__(self, uri: str, must_exist: bool = True):
        self.uri = uri
        sqlite_file = _sqlite_path(uri)
        if must_exist and sqlite_file is not None and not sqlite_file.exists():
            raise EvaluationError(f"no MLflow registry at {uri} ({sqlite_file.resolve()} does not exist); "
                                  "set MLFLOW_TRACKING_URI (or the descriptor's tracking_uri_var)")
        try:
            # pylint: disable-next=import-outside-toplevel  # optional extra, heavy: only here
            from mlflow.tracking import MlflowClient
        except ImportError as exc:
            raise EvaluationError(f"the model commands need MLflow: {INSTALL_HINT} ({exc})") from exc
        bound_http_retries()
        _quiet_mlflow_logging()
        self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def _call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except PipegenError:
            raise
        except Exception as exc:  # pylint: disable=broad-except  # any client failure: could not evaluate
            raise EvaluationError(f"MLflow registry at {self.uri}: could not {what}: {short_reason(exc)}") from exc

    def aliases(self, name: str) -> dict[str, str]:
        """alias -> version of a registered model (fails when the model does not exist)."""
        model = self._call(f"read registered model {name!r}", lambda: self._client.get_registered_model(name))
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version behind `alias`, None when no version has it."""
        return self.aliases(name).get(alias)

    def version(self, name: str, version: str) -> VersionInfo:
        """One registered version (fails when it does not exist)."""
        found = self._call(f"read {name} version {version}", lambda: self._client.get_model_version(name, version))
        return VersionInfo(str(found.version), found.run_id or None, dict(found.tags or {}))

    def download_run_artifact(self, run_id: str, artifact_path: str, destination: Path) -> Path:
        """Downloads one artifact (file or folder) of a run into `destination`; returns its local path."""
        # pylint: disable-next=import-outside-toplevel  # optional extra, heavy: only here
        from mlflow.artifacts import download_artifacts
        local = self._call(f"download artifact {artifact_path!r} of run {run_id}", lambda: download_artifacts(
            run_id=run_id, artifact_path=artifact_path, dst_path=str(destination), tracking_uri=self.uri))
        return Path(local)

    def model_exists(self, name: str) -> bool:
        """Whether a registered model `name` exists (a first pipeline run has none yet)."""
        found = self._call(f"search registered model {name!r}", lambda: self._client.search_registered_models(
            filter_string="name = '{}'".format(name.replace("'", "''"))))  # pylint: disable=consider-using-f-string
        return any(model.name == name for model in found)

    def version_metrics(self, name: str, version: str) -> VersionMetrics:
        """The version's run metrics (latest value of each)."""
        info = self.version(name, version)
        if info.run_id is None:
            raise EvaluationError(f"{name} v{version} has no run: its metrics cannot be read "
                                  "(register it from a run, e.g. mlflow.register_model('runs:/<id>/model', ...))")
        run = self._call(f"read run {info.run_id} of {name} v{version}", lambda: self._client.get_run(info.run_id))
        return VersionMetrics(info.version, info.run_id, dict(run.data.metrics))

    def tag_version(self, name: str, version: str, tags: Mapping[str, str]) -> None:
        """Sets each tag on the version (one call per tag: MLflow has no batch call)."""
        for key, value in tags.items():
            self._call(f"tag {name} v{version} with {key}",
                       lambda k=key, v=value: self._client.set_model_version_tag(name, version, k, v))

    def tag_model(self, name: str, tags: Mapping[str, str]) -> None:
        """Sets each tag on the registered model."""
        for key, value in tags.items():
            self._call(f"tag {name} with {key}",
                       lambda k=key, v=value: self._client.set_registered_model_tag(name, k, v))

    def model_tags(self, name: str) -> dict[str, str]:
        """The registered model's tags."""
        model = self._call(f"read registered model {name!r}", lambda: self._client.get_registered_model(name))
        return dict(model.tags or {})

    def set_alias(self, name: str, alias: str, version: str) -> None:
        """Points `alias` at `version` (moving it if another version had it)."""
        self._call(f"set alias {alias!r} on {name} v{version}",
                   lambda: self._client.set_registered_model_alias(name, alias, version))

    def delete_alias(self, name: str, alias: str) -> None:
        """Removes `alias` from the model."""
        self._call(f"delete alias {alias!r} of {name}", lambda: self._client.delete_registered_model_alias(name, alias))

    def version_url(self, name: str, version: str) -> str | None:
        """The version's page in the MLflow UI, for HTTP tracking servers."""
        if not self.uri.startswith(("http://", "https://")):
            return None
        return f"{self.uri.rstrip('/')}/#/models/{quote(name)}/versions/{quote(version)}"


# pylint: disable-next=too-many-arguments  # the command's surface, all keyword-only
