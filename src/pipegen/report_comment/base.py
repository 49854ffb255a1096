"""What every host of a pull/merge-request comment shares: the target, the HTTP session
(bounded retries, a timeout, the token only in a header), and the Protocol each host
module implements. requests is imported here only, so `pipegen --help` never pays for it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipegen.errors import EvaluationError

if TYPE_CHECKING:  # pragma: no cover
    import requests

TIMEOUT_SECONDS = 10
MAX_PAGES = 20  # 2000 comments is more than any pull request a report is posted on
RETRIES = 3  # bounded: a report is worth seconds, not minutes


@dataclass(frozen=True)
class Target:
    """The pull/merge request a comment goes to, on one host."""

    host: str  # github | gitlab | azure | bitbucket
    api_url: str  # the API root, without a trailing '/'
    repository: str  # owner/name, GitLab project id or path, Azure project/repository id, Bitbucket ws/repo
    number: str  # pull request number / merge request iid / Azure pull request id
    read_only: bool = False  # a fork's pull request: the token cannot write


class CommentHost(Protocol):
    """One platform's comment API: find the comment carrying the marker, create, update."""

    name: str

    def find(self, marker: str) -> str | None:
        """The id of the first comment whose body contains `marker`, None when there is none."""

    def create(self, body: str) -> str:
        """Posts a new comment; returns its id."""

    def update(self, comment_id: str, body: str) -> None:
        """Replaces the body of comment `comment_id`."""


class HostError(EvaluationError):
    """The host refused or could not be reached; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def session(headers: dict[str, str]) -> "requests.Session":
    """A session with the auth headers and bounded retries: connection errors and 429/5xx
    answers to idempotent calls are retried with backoff; a POST is retried only when it was
    never sent, so a flaky network cannot post the report twice."""
    # pylint: disable=import-outside-toplevel  # requests only when a comment is posted
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=RETRIES, connect=RETRIES, read=1, status=RETRIES, backoff_factor=0.5,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET", "PUT", "PATCH"}),
                  respect_retry_after_header=True, raise_on_status=False)
    http = requests.Session()
    http.mount("https://", HTTPAdapter(max_retries=retry))
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.headers.update({"User-Agent": "pipegen-report-comment", **headers})
    return http


def call(http: "requests.Session", method: str, url: str, what: str, **kwargs) -> "requests.Response":
    """One API call; any failure is a HostError naming what failed and the HTTP status
    (never the request headers, which carry the token)."""
    import requests  # pylint: disable=import-outside-toplevel

    try:
        response = http.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        raise HostError(f"could not {what}: {type(exc).__name__} ({_reason(exc)})") from None
    if response.status_code >= 400:
        raise HostError(f"could not {what}: HTTP {response.status_code} {_short(response.text)}",
                        response.status_code)
    return response


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "…"


def _short(text: str) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= 200 else text[:200] + "…"
