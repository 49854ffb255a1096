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
from pipegen.errors import UsageError
from pipegen.report_comment.base import Target

_CHANGE_URLS = {
    "github": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>[^/]+/[^/]+)/pull/(?P<number>\d+)"),
    "gitlab": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>.+?)/-/merge_requests/(?P<number>\d+)"),
    "bitbucket": re.compile(r"^(?P<root>https?://[^/]+)/(?P<repo>[^/]+/[^/]+)/pull-requests/(?P<number>\d+)"),
}


def _github_event(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _github(env: Mapping[str, str], api_url: str | None) -> Target | None:
    event = _github_event(env)
    pull = event.get("pull_request") or {}
    number = pull.get("number") or event.get("number")
    if not number:
        match = re.match(r"refs/pull/(\d+)/", env.get("GITHUB_REF", ""))
        number = match.group(1) if match else None
    if not number:
        return None
    head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pull.get("base") or {}).get("repo") or {}).get("full_name") or env.get("GITHUB_REPOSITORY")
    # pull_request runs from a fork get a read-only GITHUB_TOKEN (GitHub docs, "Permissions for the
    # GITHUB_TOKEN"); a deleted fork has no head repo at all.
    fork = bool(pull) and head != base
    return Target("github", (api_url or env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
                  env.get("GITHUB_REPOSITORY", base or ""), str(number), read_only=fork)


def _gitlab(env: Mapping[str, str], api_url: str | None) -> Target | None:
    if not env.get("CI_MERGE_REQUEST_IID"):
        return None
    return Target("gitlab", (api_url or env.get("CI_API_V4_URL") or "https://gitlab.com/api/v4").rstrip("/"),
                  env.get("CI_PROJECT_ID", ""), env["CI_MERGE_REQUEST_IID"])


def _azure(env: Mapping[str, str], api_url: str | None) -> Target | None:
    number = env.get("SYSTEM_PULLREQUEST_PULLREQUESTID")
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
    if not env.get("CHANGE_ID"):
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
