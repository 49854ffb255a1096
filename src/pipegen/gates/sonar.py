"""The Sonar gate: waits for the analysis the scanner just submitted, then reads the
quality gate status of exactly that analysis (not of "the latest" one, which a parallel
pipeline may have replaced).

Web API used (SonarQube and SonarCloud): `GET api/ce/task?id=` until the background
task is SUCCESS/FAILED/CANCELED, then `GET api/qualitygates/project_status?analysisId=`.
Authentication: the token from SONAR_TOKEN as the basic-auth user with an empty password,
sent only to the Sonar server's own host (pipegen.http_client: a redirect elsewhere loses it)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from pipegen import paths, scrub
from pipegen.errors import EvaluationError
from pipegen.gates.result import Condition, GateResult, Link, Status

if TYPE_CHECKING:
    import requests

GATE = "sonar"
WAITING = ("PENDING", "IN_PROGRESS")
MAX_REPORT_TASK_BYTES = 64 * 1024  # a handful of properties
# Sonar's comparator says when a condition is in error; the gate shows what is required.
REQUIRED_COMPARATOR = {"LT": ">=", "GT": "<=", "EQ": "!=", "NE": "=="}
CONDITION_STATUS = {"OK": Status.PASS, "WARN": Status.PASS, "ERROR": Status.FAIL}


@dataclass(frozen=True)
class ReportTask:
    """What the scanner wrote to .scannerwork/report-task.txt."""

    server_url: str
    ce_task_id: str
    ce_task_url: str | None = None
    dashboard_url: str | None = None
    project_key: str | None = None


def _unescape_property(value: str) -> str:
    # Java properties escape ':' and '=' with a backslash (https\://...).
    return value.replace("\\:", ":").replace("\\=", "=").replace("\\\\", "\\")


def read_report_task(path: Path) -> ReportTask:
    """Parses the scanner's Java-properties file; serverUrl and ceTaskId are required."""
    if not path.exists() and not path.is_symlink():
        raise EvaluationError(f"Sonar report task {path} not found; run the scanner first "
                              "(it writes .scannerwork/report-task.txt)")
    text = paths.read_text(path, MAX_REPORT_TASK_BYTES, error=EvaluationError)
    properties: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            properties[key.strip()] = _unescape_property(value.strip())
    missing = [key for key in ("serverUrl", "ceTaskId") if not properties.get(key)]
    if missing:
        raise EvaluationError(f"Sonar report task {path} has no {' or '.join(missing)}; is it the scanner's "
                              "report-task.txt?")
    return ReportTask(server_url=properties["serverUrl"], ce_task_id=properties["ceTaskId"],
                      ce_task_url=properties.get("ceTaskUrl"), dashboard_url=properties.get("dashboardUrl"),
                      project_key=properties.get("projectKey"))


@dataclass(frozen=True)
class HttpSettings:
    """How hard to try each request."""

    retries: int = 5  # per request, on connection errors and 429/5xx
    backoff: float = 1.0  # urllib3 backoff_factor: sleeps backoff * 2**(n-1) between retries
    request_timeout: float = 30.0  # seconds per request


class SonarClient:
    """GETs Sonar's Web API as JSON; every way that can go wrong becomes one clear
    EvaluationError (exit 3) that never contains the token."""

    def __init__(self, server_url: str, token: str | None, http: HttpSettings):
        from pipegen import http_client  # pylint: disable=import-outside-toplevel  # requests on use only

        self.server_url = server_url.rstrip("/")
        self._token = token
        self._timeout = http.request_timeout
        # Sonar: the token as the basic-auth user, empty password; proxies and CA bundles from the environment.
        self._session = http_client.session(self.server_url, basic_auth=(token, "") if token else None,
                                            retries=http.retries, read_retries=http.retries, backoff=http.backoff)

    def get(self, api: str, params: dict[str, str]) -> dict[str, Any]:
        """GET `api` (relative to the server URL) and return its JSON object."""
        import requests  # pylint: disable=import-outside-toplevel

        url = f"{self.server_url}/{api}"
        try:
            response = self._session.get(url, params=params, timeout=self._timeout)
        except requests.RequestException as exc:
            raise EvaluationError(scrub.redact(f"could not reach Sonar at {self.server_url}: {_reason(exc)}")
                                  ) from None
        if response.status_code in (401, 403):
            raise EvaluationError(self._auth_message(response.status_code, api))
        if response.status_code != 200:
            raise EvaluationError(scrub.redact(f"Sonar answered {response.status_code} {response.reason} to GET "
                                               f"{api}{_sonar_errors(response)}"))
        try:
            data = response.json()
        except ValueError:
            raise EvaluationError(f"Sonar's answer to GET {api} is not JSON; is {self.server_url} a Sonar "
                                  "server?") from None
        if not isinstance(data, dict):
            raise EvaluationError(f"Sonar's answer to GET {api} is not a JSON object")
        return data

    def _auth_message(self, status: int, api: str) -> str:
        if status == 401 and not self._token:
            return f"Sonar answered 401 Unauthorized to GET {api}: SONAR_TOKEN is not set"
        if status == 401:
            return (f"Sonar answered 401 Unauthorized to GET {api}: the token in SONAR_TOKEN was rejected "
                    "(expired, revoked, or for another server)")
        return (f"Sonar answered 403 Forbidden to GET {api}: the token in SONAR_TOKEN lacks permission "
                "('Execute Analysis' for api/ce/task, 'Browse' on the project for the quality gate)")


def _reason(exc: Exception) -> str:
    # requests wraps urllib3's MaxRetryError; its innermost reason is the readable part.
    reason: Any = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    return f"{type(exc).__name__}: {reason}"


def _sonar_errors(response: requests.Response) -> str:
    """Sonar puts its reason in {"errors": [{"msg": ...}]}; show it when present."""
    try:
        errors = response.json().get("errors", [])
        return ": " + "; ".join(str(error.get("msg")) for error in errors) if errors else ""
    except (ValueError, AttributeError):
        return ""


def wait_for_task(client: SonarClient, task_id: str, timeout: float, poll_interval: float, *,
                  sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> str:
    """Polls the background task until it is done; returns its analysis id."""
    deadline = clock() + timeout
    while True:
        task = client.get("api/ce/task", {"id": task_id}).get("task")
        if not isinstance(task, dict):
            raise EvaluationError(f"Sonar's answer to GET api/ce/task has no task object (task {task_id})")
        status = task.get("status")
        if status == "SUCCESS":
            if not task.get("analysisId"):
                raise EvaluationError(f"Sonar's background task {task_id} succeeded without an analysisId")
            return str(task["analysisId"])
        if status in ("FAILED", "CANCELED"):
            reason = task.get("errorMessage") or "no reason given"
            raise EvaluationError(f"Sonar's background task {task_id} is {status}: {reason}")
        if status not in WAITING:
            raise EvaluationError(f"Sonar's background task {task_id} has unknown status {status!r}")
        remaining = deadline - clock()
        if remaining <= 0:
            raise EvaluationError(f"Sonar's background task {task_id} still {status} after {timeout:g} s; "
                                  "raise --timeout (or quality.sonar.timeout) if the server is busy")
        sleep(min(poll_interval, remaining))


def _number_or_text(value: Any) -> float | str | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def sonar_condition(raw: dict[str, Any]) -> Condition:
    """One of Sonar's conditions, with the comparator turned into what is required."""
    status_text = str(raw.get("status", ""))
    metric = str(raw.get("metricKey", "?"))
    detail = "warning" if status_text == "WARN" else ""
    status = CONDITION_STATUS.get(status_text, Status.SKIP)
    if status is Status.SKIP:
        detail = f"no value ({status_text or 'no status'})"
    return Condition(metric, REQUIRED_COMPARATOR.get(str(raw.get("comparator")), str(raw.get("comparator"))),
                     _number_or_text(raw.get("errorThreshold")), _number_or_text(raw.get("actualValue")),
                     status, detail)


def gate_condition(status: str, allow_no_gate: bool) -> Condition:
    """The overall quality gate status as a condition: OK/WARN pass, ERROR fails, NONE fails unless allowed."""
    if status in ("OK", "WARN"):
        return Condition("quality_gate", "is", "OK", status, Status.PASS, "warnings" if status == "WARN" else "")
    if status == "NONE" and allow_no_gate:
        return Condition("quality_gate", "is", "OK", status, Status.SKIP, "no quality gate attached (allowed)")
    if status == "NONE":
        return Condition("quality_gate", "is", "OK", status, Status.FAIL,
                         "no quality gate attached to the project; attach one or allow it (--allow-no-gate)")
    if status == "ERROR":
        return Condition("quality_gate", "is", "OK", status, Status.FAIL, "")
    raise EvaluationError(f"Sonar returned an unknown quality gate status {status!r}")


def quality_gate(client: SonarClient, analysis_id: str, allow_no_gate: bool) -> list[Condition]:
    """The analysis' quality gate: the overall condition first, then Sonar's own."""
    project_status = client.get("api/qualitygates/project_status", {"analysisId": analysis_id}).get("projectStatus")
    if not isinstance(project_status, dict) or "status" not in project_status:
        raise EvaluationError("Sonar's answer to GET api/qualitygates/project_status has no projectStatus.status")
    raw_conditions = project_status.get("conditions") or []
    if not isinstance(raw_conditions, list):
        raise EvaluationError("Sonar's projectStatus.conditions is not a list")
    conditions = [gate_condition(str(project_status["status"]), allow_no_gate)]
    conditions.extend(sonar_condition(raw) for raw in raw_conditions if isinstance(raw, dict))
    return conditions


@dataclass(frozen=True)
class PollSettings:
    """How long and how often to ask for the background task."""

    timeout: float = 300.0  # seconds for the background task to finish
    poll_interval: float = 5.0


def evaluate(report_task: Path, *, token: str | None, host_url: str | None, allow_no_gate: bool,
             poll: PollSettings, http: HttpSettings) -> GateResult:
    """The Sonar gate's result. `host_url` (SONAR_HOST_URL or --host-url) wins over the
    serverUrl the scanner wrote."""
    task = read_report_task(report_task)
    result = GateResult(gate=GATE)
    if task.dashboard_url:
        result.links.append(Link("Sonar dashboard", task.dashboard_url))
    client = SonarClient(host_url or task.server_url, token, http)
    if not token:
        result.notes.append("SONAR_TOKEN is not set: asking Sonar anonymously")
    try:
        analysis_id = wait_for_task(client, task.ce_task_id, poll.timeout, poll.poll_interval)
        result.conditions.extend(quality_gate(client, analysis_id, allow_no_gate))
    except EvaluationError as exc:
        result.error = str(exc)
    result.notes.append(f"server {client.server_url}, task {task.ce_task_id}")
    return result  # scrubbed with every gate's result on its way out (pipegen.scrub)
