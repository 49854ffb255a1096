"""`pipegen pins refresh-images` against a STAND-IN registry on loopback (no registry is reachable
from the tests): it answers as the Docker Registry HTTP API v2 / OCI distribution spec documents,
including the Bearer token challenge Docker Hub sends, with its token service on another origin."""
from __future__ import annotations

import hashlib
import json
import shutil
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from helpers import run_pipegen
from loopback_json import JsonHandler
from pipegen.pins.images import shipped_catalog_path

TOKEN = "stand-in-token"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"


def _index(tag: str) -> bytes:
    """A multi-arch image index, as the registry would serve it (its bytes decide the digest)."""
    return json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1234,
         "digest": "sha256:" + hashlib.sha256(f"{tag}/{arch}".encode()).hexdigest(),
         "platform": {"architecture": arch, "os": "linux"}} for arch in ("amd64", "arm64")]}).encode()


class StandInRegistry(ThreadingHTTPServer):
    """STAND-IN for registry-1.docker.io (manifests) or auth.docker.io (tokens)."""

    def __init__(self, role: str, realm: str = "", lie_about_digest: bool = False):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.role, self.realm, self.lie_about_digest = role, realm, lie_about_digest
        self.requests: list[tuple[str, str, str]] = []  # path, Authorization, Accept

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(JsonHandler):
    server: StandInRegistry

    def do_GET(self) -> None:  # pylint: disable=invalid-name  # http.server's spelling
        self.server.requests.append((self.path, self.headers.get("Authorization", ""), self.headers.get("Accept", "")))
        if self.server.role == "auth":
            self._reply(200, {"token": TOKEN, "expires_in": 300})
            return
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            challenge = (f'Bearer realm="{self.server.realm}/token",service="registry.stand-in",'
                         f'scope="repository:{self.path.split("/manifests/")[0][4:]}:pull"')
            self._reply(401, {"errors": [{"code": "UNAUTHORIZED"}]}, {"WWW-Authenticate": challenge})
            return
        tag = self.path.rsplit("/", 1)[1]
        body = _index(tag)
        digest = "sha256:" + hashlib.sha256(b"other" if self.server.lie_about_digest else body).hexdigest()
        self.send_response(200)
        self.send_header("Content-Type", INDEX_TYPE)
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(server: StandInRegistry) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def registries(request) -> Iterator[tuple[StandInRegistry, StandInRegistry]]:
    auth = StandInRegistry("auth")
    _serve(auth)
    registry = StandInRegistry("registry", realm=auth.url, lie_about_digest=getattr(request, "param", False))
    _serve(registry)
    try:
        yield registry, auth
    finally:
        for server in (registry, auth):
            server.shutdown()
            server.server_close()


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    copy = tmp_path / "catalog.yaml"
    shutil.copyfile(shipped_catalog_path(), copy)
    return copy


def _expected(reference: str) -> str:
    return "sha256:" + hashlib.sha256(_index(reference.rsplit(":", 1)[1])).hexdigest()


def test_refresh_records_each_tags_index_digest_and_keeps_the_rest(capsys, registries, catalog):
    registry, auth = registries
    before = catalog.read_text()
    result = run_pipegen(capsys, "pins", "refresh-images", "--catalog", str(catalog), "--registry", registry.url)
    assert result.exit_code == 0, result.err
    entries = yaml.safe_load(catalog.read_text())["images"]
    old = yaml.safe_load(before)["images"]
    for reference, entry in entries.items():
        assert entry["digest"] == _expected(reference)
        assert entry["source"] == old[reference]["source"] and entry["registry"] == old[reference]["registry"]
    # the comments explaining the catalog are kept as written
    assert [line for line in before.splitlines() if line.startswith("#")] == \
        [line for line in catalog.read_text().splitlines() if line.startswith("#")]
    # the token went to the registry only; the manifest was asked for as an index first
    assert all(authorization == "" for _, authorization, _ in auth.requests)
    asked = [(path, accept) for path, authorization, accept in registry.requests if authorization]
    assert {path for path, _ in asked} == {f"/v2/{entry['repository']}/manifests/{reference.split(':')[1]}"
                                           for reference, entry in entries.items()}
    assert all(accept.startswith(INDEX_TYPE) for _, accept in asked)
    # run again: nothing moved, nothing written, and --check agrees
    assert run_pipegen(capsys, "pins", "refresh-images", "--catalog", str(catalog), "--registry", registry.url,
                       "--check").exit_code == 0


def test_check_fails_when_a_digest_is_behind_and_writes_nothing(capsys, registries, catalog):
    registry, _ = registries
    before = catalog.read_text()
    result = run_pipegen(capsys, "pins", "refresh-images", "--catalog", str(catalog), "--registry", registry.url,
                         "--check")
    assert result.exit_code == 1
    assert "python:3.11-slim: sha256:" in result.out and "behind their tags" in result.err
    assert catalog.read_text() == before


@pytest.mark.parametrize("registries", [True], indirect=True)
def test_a_manifest_whose_bytes_do_not_match_the_announced_digest_is_not_recorded(capsys, registries, catalog):
    registry, _ = registries
    before = catalog.read_text()
    result = run_pipegen(capsys, "pins", "refresh-images", "--catalog", str(catalog), "--registry", registry.url)
    assert result.exit_code == 3
    assert "announced" in result.err and "nothing recorded" in result.err
    assert catalog.read_text() == before


def test_an_unreachable_registry_cannot_evaluate(capsys, catalog):
    result = run_pipegen(capsys, "pins", "refresh-images", "--catalog", str(catalog), "--registry",
                         "http://127.0.0.1:9")
    assert result.exit_code == 3 and "could not reach" in result.err
