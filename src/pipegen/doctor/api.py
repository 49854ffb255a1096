"""The one way doctor talks to a platform: read-only GET requests through pipegen.http_client
(the token goes to the configured host only, never to a redirect or a page link elsewhere),
answers turned into findings' inputs or into one clear EvaluationError (exit 3) naming what
could not be read and, on 401/403, the scope or permission the token lacks.

requests is imported here: import this module where doctor runs only."""
from __future__ import annotations

from typing import Callable, Iterator, Mapping

import requests

from pipegen import http_client, scrub
from pipegen.doctor.scopes import TOKEN_FROM
from pipegen.errors import EvaluationError

TIMEOUT_SECONDS = 15
MAX_PAGES = 50  # 5,000 secrets or environments at 100 a page: more is a server that never stops paging
RETRIES = 2


class Refused(EvaluationError):
    """The platform answered 401 or 403: the token is wrong or lacks a scope."""


# How the next page is found: from the response and the parameters just sent, the next URL
# and parameters, or None on the last page.
Follow = Callable[[requests.Response, dict], "tuple[str, dict] | None"]


def follow_link(response: requests.Response, _params: dict) -> tuple[str, dict] | None:
    """GitHub and GitLab: the `Link: <...>; rel="next"` header names the whole next URL."""
    url = response.links.get("next", {}).get("url")
    return (url, {}) if url else None


class Api:
    """A platform's REST API at `base_url`, for one repository or job (`project`), with the token
    read from `token_env`."""

    def __init__(self, platform: str, base_url: str, project: str, token_env: str, *,
                 credentials: Mapping[str, str] | None = None, basic_auth: tuple[str, str] | None = None,
                 headers: Mapping[str, str] | None = None):
        self.platform = platform
        self.project = project  # owner/repo, GitLab project, Azure project/pipeline, Jenkins job path
        self.base_url = base_url.rstrip("/")
        self.token_env = token_env
        self.http = http_client.session(self.base_url, credentials=credentials, basic_auth=basic_auth,
                                        headers={"User-Agent": "pipegen-doctor", **(headers or {})},
                                        retries=RETRIES, read_retries=1)

    def url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, what: str, scope: str, params: Mapping[str, str] | None = None,
            missing_ok: bool = False) -> requests.Response | None:
        """One GET. A 404 is None when `missing_ok` (the thing is not there), else an error; 401/403
        raise Refused naming `scope`; other failures raise EvaluationError naming `what`."""
        url = self.url(path)
        if not self.http.at_home(url):  # a page link naming another host: never followed
            raise EvaluationError(f"{self.platform}: could not {what}: the server pointed to another host; "
                                  "not followed")
        try:
            response = self.http.get(url, params=dict(params or {}), timeout=TIMEOUT_SECONDS, allow_redirects=True)
        except requests.RequestException as exc:
            raise EvaluationError(f"{self.platform}: could not {what}: {type(exc).__name__} "
                                  f"({_short(str(exc))}) at {self.base_url}") from None
        if response.status_code in (401, 403):
            raise Refused(self._refusal(response, what, scope))
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400:
            raise EvaluationError(f"{self.platform}: could not {what}: HTTP {response.status_code} "
                                  f"{_short(response.text)}")
        return response

    def json(self, path: str, what: str, scope: str, params: Mapping[str, str] | None = None,
             missing_ok: bool = False):
        """The decoded JSON body of a GET (None on a tolerated 404)."""
        response = self.get(path, what, scope, params, missing_ok)
        return None if response is None else decode(response, self.platform, what)

    def pages(self, path: str, what: str, scope: str, items: Callable[[object], list],
              follow: Follow = follow_link, params: Mapping[str, str] | None = None) -> Iterator[dict]:
        """Every item of a paged list: `items` picks a page's entries, `follow` finds the next page."""
        url, sent = self.url(path), dict(params or {})
        for _ in range(MAX_PAGES):
            response = self.get(url, what, scope, sent)
            assert response is not None  # missing_ok is False: a 404 raised
            for entry in items(decode(response, self.platform, what)):
                if isinstance(entry, dict):
                    yield entry
            step = follow(response, sent)
            if step is None:
                return
            url, sent = step[0], step[1]
        raise EvaluationError(f"{self.platform}: could not {what}: more than {MAX_PAGES} pages")

    def _refusal(self, response: requests.Response, what: str, scope: str) -> str:
        status = response.status_code
        reason = "refused the token" if status == 401 else "refused the request"
        # GitHub names the permissions an endpoint accepts; names only, never a value.
        accepted = response.headers.get("X-Accepted-GitHub-Permissions")
        hint = f" (the server accepts: {_short(accepted)})" if accepted else ""
        return (f"{self.platform}: HTTP {status}: the server {reason} when asked to {what}: the token in "
                f"{self.token_env} needs {scope}{hint}")


def decode(response: requests.Response, platform: str, what: str):
    try:
        return response.json()
    except ValueError:
        raise EvaluationError(f"{platform}: could not {what}: the answer is not JSON "
                              f"({_short(response.text)})") from None


def token(environ: Mapping[str, str], name: str, platform: str) -> str:
    """The token in environment variable `name` (or in the one --token-env named), registered
    with the scrubber; exit 3 without one."""
    name = environ.get(TOKEN_FROM) or name
    value = scrub.credential(environ.get(name), name)
    if not value:
        raise EvaluationError(f"{platform}: no token: set the environment variable {name} "
                              "(see `pipegen doctor --help` for the scopes it needs)")
    return value


def _short(text: str | None) -> str:
    return scrub.cut(" ".join((text or "").split()), 200)
