"""The one HTTP client for every request pipegen sends with a credential (the report
comment hosts, the Sonar gate): the credential goes only to the host it was configured for.

requests' own mechanisms do the work, tightened: `requests.Session.rebuild_auth` and
`should_strip_auth` decide what a redirect keeps, and here compare every hop with the
configured host (not only with the previous hop) and strip *every* credential header
(GitLab's PRIVATE-TOKEN as well as Authorization); `prepare_request` strips them from any
request to another host (a pagination link naming one); a redirect that would replay a
request with a body (307/308 after a POST, PUT or PATCH) to another host is refused, never
followed. Retries are urllib3's `Retry`, bounded, on idempotent methods only.

requests is imported with this module: import it where a request is sent, so `pipegen
--help` and `generate` never pay for it."""
from __future__ import annotations

from typing import Iterable, Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


DEFAULT_PORTS = {"http": 80, "https": 443}
SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 30.0  # seconds: a server's Retry-After cannot hold a job for hours


class BoundedRetry(Retry):
    """urllib3's Retry, with a server's Retry-After capped."""

    def get_retry_after(self, response) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


class CrossHostRedirect(requests.RequestException):
    """A redirect would have sent a request with a body to another host."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number: no origin is the same as it
        port = -1
    return scheme, (parts.hostname or "").lower(), port


class HostBoundSession(requests.Session):
    """A session whose credentials reach only `base_url`'s scheme, host and port."""

    def __init__(self, base_url: str, credential_headers: Iterable[str] = ()):
        super().__init__()
        self.home = _origin(base_url)
        self.credential_headers = frozenset(name.lower() for name in (*credential_headers, "Authorization"))

    def at_home(self, url: str) -> bool:
        """True when `url` is the configured host, or its https upgrade on the default ports."""
        scheme, host, port = _origin(url)
        home_scheme, home_host, home_port = self.home
        if host != home_host:
            return False
        return (scheme, port) == (home_scheme, home_port) or (
            (home_scheme, home_port, scheme, port) == ("http", 80, "https", 443))

    def _strip(self, headers: Mapping[str, str]) -> None:
        for name in [name for name in headers if name.lower() in self.credential_headers]:
            del headers[name]  # type: ignore[attr-defined]  # a requests CaseInsensitiveDict

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        if not self.at_home(prepared.url or ""):
            self._strip(prepared.headers)
        return prepared

    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        return not self.at_home(new_url) or super().should_strip_auth(old_url, new_url)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        url = prepared_request.url or ""
        if not self.at_home(url):
            # rebuild_method has run: a 301/302/303 turned a POST into a body-less GET; a 307/308 did not.
            if (prepared_request.method or "GET").upper() not in SAFE_METHODS:
                raise CrossHostRedirect(f"the server redirected a {prepared_request.method} to another host "
                                        f"({_origin(url)[1] or url}); not followed", response=response)
            self._strip(prepared_request.headers)
        super().rebuild_auth(prepared_request, response)


def session(base_url: str, *, credentials: Mapping[str, str] | None = None, basic_auth: tuple[str, str] | None = None,
            headers: Mapping[str, str] | None = None, retries: int = 3, read_retries: int = 1,
            backoff: float = 0.5, retry_methods: Iterable[str] = ("GET",)) -> HostBoundSession:
    """A session for `base_url`'s host: `credentials` (header name -> value) and `basic_auth`
    go to that host only; other `headers` everywhere. Connection errors and 429/5xx answers
    are retried with backoff for `retry_methods`; a request with another method is retried
    only when it was never sent (a connection refused), so nothing is posted twice."""
    http = HostBoundSession(base_url, (credentials or {}).keys())
    retry = BoundedRetry(total=retries, connect=retries, read=read_retries, status=retries, backoff_factor=backoff,
                         status_forcelist=RETRY_STATUSES, allowed_methods=frozenset(retry_methods),
                         respect_retry_after_header=True, raise_on_status=False)
    http.mount("https://", HTTPAdapter(max_retries=retry))
    http.mount("http://", HTTPAdapter(max_retries=retry))
    http.headers.update({**(headers or {}), **(credentials or {})})
    if basic_auth is not None:
        http.auth = basic_auth
    return http
