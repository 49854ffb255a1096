"""Which pull/merge request this run builds, and where its host's API is, from the
variables each CI documents. Jenkins (multibranch) knows the change from CHANGE_ID and
CHANGE_URL; the host's API root is derived from that URL (or given with --api-url)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, urlsplit

from pipegen import ci as ci_detect
from pipegen import paths
from pipegen.errors import PipegenError, UsageError
from pipegen.report_comment.base import Target

_CHANGE_URLS = {
    "github": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>[^/]+/[^/]+)/pull/(?P<number>\d+)"),
    "gitlab": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>.+?)/-/merge_requests/(?P<number>\d+)"),
    "bitbucket": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>[^/]+/[^/]+)/pull-requests/(?P<number>\d+)"),
}


MAX_EVENT_BYTES = 16 * 1024 * 1024


def github_event(env: Mapping[str, str]) -> dict:
    """The event payload GitHub wrote (GITHUB_EVENT_PATH), read through the safe reader;
    {} when it is absent or cannot be read."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(paths.read_bytes(Path(path), MAX_EVENT_BYTES))
    except (PipegenError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _dig(data: object, *keys: str) -> object:
    """data[k1][k2]... while each level is a mapping, else None (an event file can hold anything)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _number(value: object) -> str | None:
    """A pull/merge request number as it goes into an API path: digits only."""
    text = str(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() else None


def _github(env: Mapping[str, str], api_url: str | None) -> Target | None:
    event = github_event(env)
    pull = _dig(event, "pull_request")
    number = _number(_dig(pull, "number") or event.get("number"))
    if not number:
        match = re.match(r"refs/pull/(\d+)/", env.get("GITHUB_REF", ""))
        number = match.group(1) if match else None
    if not number:
        return None
    head = _dig(pull, "head", "repo", "full_name")
    base = _dig(pull, "base", "repo", "full_name") or env.get("GITHUB_REPOSITORY")
    # pull_request runs from a fork get a read-only GITHUB_TOKEN (GitHub docs, "Permissions for the
    # GITHUB_TOKEN"); a deleted fork has no head repo at all.
    fork = bool(pull) and head != base
    return Target("github", (api_url or env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
                  env.get("GITHUB_REPOSITORY", str(base or "")), number, read_only=fork)


def _gitlab(env: Mapping[str, str], api_url: str | None) -> Target | None:
    if not _number(env.get("CI_MERGE_REQUEST_IID")):
        return None
    return Target("gitlab", (api_url or env.get("CI_API_V4_URL") or "https://gitlab.com/api/v4").rstrip("/"),
                  env.get("CI_PROJECT_ID", ""), env["CI_MERGE_REQUEST_IID"])


def _azure(env: Mapping[str, str], api_url: str | None) -> Target | None:
    number = _number(env.get("SYSTEM_PULLREQUEST_PULLREQUESTID"))
    if not number:
        return None
    root = api_url or f"{env.get('SYSTEM_COLLECTIONURI', '').rstrip('/')}/{quote(env.get('SYSTEM_TEAMPROJECT', ''))}"
    return Target("azure", root.rstrip("/"), env.get("BUILD_REPOSITORY_ID", ""), number,
                  read_only=env.get("SYSTEM_PULLREQUEST_ISFORK", "").lower() == "true")


def _api_root(host: str, root: str) -> str:
    netloc = urlsplit(root).netloc
    if host == "github":
        return "https://api.github.com" if netloc == "github.com" else f"{root}/api/v3"
    if host == "gitlab":
        return f"{root}/api/v4"
    if netloc != "bitbucket.org":
        raise UsageError(f"{root}: only Bitbucket Cloud's API is supported (Bitbucket Data Center's differs); "
                         "pass --api-url for a proxy that speaks the Cloud API")
    return "https://api.bitbucket.org/2.0"


def _jenkins(env: Mapping[str, str], host: str | None, api_url: str | None) -> Target | None:
    if not _number(env.get("CHANGE_ID")):
        return None
    if host not in _CHANGE_URLS:
        raise UsageError("on Jenkins the comment goes through the repository host: pass --host github, gitlab "
                         "or bitbucket (descriptor report.host)")
    match = _CHANGE_URLS[host].match(env.get("CHANGE_URL", ""))
    if match is None:
        raise UsageError(f"CHANGE_URL {env.get('CHANGE_URL', '')!r} is not a {host} pull/merge request URL")
    root = api_url or _api_root(host, match["root"])
    return Target(host, root.rstrip("/"), match["repo"], env["CHANGE_ID"])


def resolve(environ: Mapping[str, str], host: str | None = None, api_url: str | None = None
            ) -> tuple[str | None, Target | None]:
    """(the CI running this, the pull/merge request to comment on); the target is None
    outside a pull/merge-request run. `host` matters on Jenkins only: GitHub Actions, GitLab
    CI and Azure Pipelines comment on their own pull/merge requests."""
    ci = ci_detect.detect(environ)
    if ci == "github":
        return ci, _github(environ, api_url)
    if ci == "gitlab":
        return ci, _gitlab(environ, api_url)
    if ci == "azure":
        return ci, _azure(environ, api_url)  # Azure Repos pull requests (report.host is Jenkins')
    if ci == "jenkins":
        return ci, _jenkins(environ, host, api_url)
    return None, None
