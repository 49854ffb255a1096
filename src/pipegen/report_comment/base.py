"""What every host of a pull/merge-request comment shares: the target, the HTTP session
(pipegen.http_client: bounded retries, the token only in a header and only to the API's
host), and the Protocol each host module implements. requests is imported on use only, so
`pipegen --help` never pays for it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipegen import scrub
from pipegen.errors import EvaluationError

if TYPE_CHECKING:  # pragma: no cover
    import requests

    from pipegen.http_client import HostBoundSession

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


def session(target: Target, credentials: dict[str, str], headers: dict[str, str] | None = None
            ) -> "HostBoundSession":
    """A session for the target's API host: the credential headers go to that host only
    (never to a redirect or a page link elsewhere); connection errors and 429/5xx answers to
    idempotent calls are retried with backoff; a POST is retried only when it was never
    sent, so a flaky network cannot post the report twice."""
    from pipegen import http_client  # pylint: disable=import-outside-toplevel  # requests on use only

    return http_client.session(target.api_url, credentials=credentials,
                               headers={"User-Agent": "pipegen-report-comment", **(headers or {})},
                               retries=RETRIES, read_retries=1, retry_methods=("GET", "PUT", "PATCH"))


def call(http: "HostBoundSession", method: str, url: str, what: str, **kwargs) -> "requests.Response":
    """One API call; any failure is a HostError naming what failed and the HTTP status
    (never the request headers, which carry the token)."""
    import requests  # pylint: disable=import-outside-toplevel

    if not http.at_home(url):  # a page link the server named: the API's host only
        raise HostError(f"could not {what}: the server pointed to another host ({_short(url)}); not followed")
    try:
        response = http.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except requests.RequestException as exc:
        raise HostError(f"could not {what}: {type(exc).__name__} ({_reason(exc)})") from None
    if response.status_code >= 400:
        raise HostError(f"could not {what}: HTTP {response.status_code} {_short(response.text)}",
                        response.status_code)
    return response


def _reason(exc: Exception) -> str:
    return _short(str(exc))


def _short(text: str) -> str:
    """One line of at most 200 characters, secrets redacted before the cut."""
    return scrub.cut(" ".join((text or "").split()), 200)
