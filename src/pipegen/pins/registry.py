"""Refreshing the image catalog: the current index digest of each tag, from its registry.

The Docker Registry HTTP API v2 (the OCI distribution spec): `GET /v2/<repository>/manifests/<tag>`
with an `Accept` listing the index and manifest media types answers the tag's top manifest (the
multi-arch index for official images) and its digest in `Docker-Content-Digest`. A registry that
wants a token answers 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the
token comes from that realm (anonymously: these are public images) and is sent to the registry only.
The digest is checked against the bytes received: what the catalog records is what was served.
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable, Mapping

from pipegen.errors import EvaluationError
from pipegen.pins.images import DIGEST, PinnedImage

INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT = (10, 30)


def bearer_challenge(header: str) -> dict[str, str] | None:
    """`Bearer realm="...",service="...",scope="..."` as a dict; None for another scheme."""
    scheme, _, params = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return dict(_CHALLENGE_PARAM.findall(params))


def _anonymous_token(challenge: Mapping[str, str], repository: str) -> str:
    from pipegen import http_client  # pylint: disable=import-outside-toplevel  # requests only when asked

    realm = challenge.get("realm", "")
    if not realm.startswith(("https://", "http://")):
        raise EvaluationError(f"the registry's token realm {realm!r} is not an http(s) URL")
    params = {"service": challenge.get("service", ""),
              "scope": challenge.get("scope") or f"repository:{repository}:pull"}
    with http_client.session(realm) as http:
        answer = http.get(realm, params={key: value for key, value in params.items() if value}, timeout=TIMEOUT)
        if answer.status_code != 200:
            raise EvaluationError(f"the token service at {realm} answered HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise EvaluationError(f"the token service at {realm} answered no JSON") from None
    token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
    if not token:
        raise EvaluationError(f"the token service at {realm} answered no token")
    return str(token)


def index_digest(image: PinnedImage, registry: str | None = None) -> str:
    """The digest `image`'s tag points at now, asked of `registry` (default: the entry's own)."""
    from pipegen import http_client  # pylint: disable=import-outside-toplevel

    base = (registry or image.registry).rstrip("/")
    url = f"{base}/v2/{image.repository}/manifests/{image.tag}"
    accept = {"Accept": ", ".join(INDEX_MEDIA_TYPES)}
    try:
        with http_client.session(base, headers=accept) as http:
            answer = http.get(url, timeout=TIMEOUT)
            challenge = bearer_challenge(answer.headers.get("WWW-Authenticate", ""))
            if answer.status_code == 401 and challenge is not None:
                token = _anonymous_token(challenge, image.repository)
                answer = http.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
            if answer.status_code != 200:
                raise EvaluationError(f"{image.reference}: {url} answered HTTP {answer.status_code}")
            body = answer.content
            announced = answer.headers.get("Docker-Content-Digest", "")
    except OSError as exc:  # requests' errors are OSErrors: connection refused, timeouts, TLS
        raise EvaluationError(f"{image.reference}: could not reach {base}: {exc}") from None
    served = "sha256:" + hashlib.sha256(body).hexdigest()
    if announced and announced != served:
        raise EvaluationError(f"{image.reference}: the registry announced {announced} but served a manifest "
                              f"whose digest is {served}; nothing recorded")
    if not DIGEST.match(served):
        raise EvaluationError(f"{image.reference}: no digest could be read")
    return served


def refreshed_digests(catalog: Mapping[str, PinnedImage], registry: str | None = None,
                      ask: Callable[[PinnedImage, str | None], str] = index_digest) -> dict[str, str]:
    """reference -> its current digest, for every entry of `catalog`."""
    return {reference: ask(image, registry) for reference, image in catalog.items()}


def rewrite_catalog(text: str, digests: Mapping[str, str], recorded: str) -> str:
    """The catalog's text with each changed entry's `digest:` and `recorded:` lines replaced:
    comments, order and every other field are kept as written."""
    lines = text.splitlines(keepends=True)
    current = None
    for number, line in enumerate(lines):
        entry = re.match(r"^  (\S[^:]*:[^:\s]+):\s*$", line)
        if entry:
            current = entry.group(1)
            continue
        if current not in digests:
            continue
        field = re.match(r"^(\s{4})(digest|recorded):", line)
        if field and field.group(2) == "digest":
            lines[number] = f"{field.group(1)}digest: {digests[current]}\n"
        elif field:
            lines[number] = f'{field.group(1)}recorded: "{recorded}"\n'
    return "".join(lines)
