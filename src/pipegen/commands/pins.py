"""`pipegen pins refresh-images`: the pinned-image catalog brought up to its tags' current digests."""
from __future__ import annotations

import datetime
from pathlib import Path

import click

from pipegen import paths
from pipegen.errors import CheckFailed
from pipegen.generate.files import atomic_write
from pipegen.pins.images import MAX_CATALOG_BYTES, read_catalog, shipped_catalog_path


@click.group("pins")
def group() -> None:
    """What pipegen pins in the files it writes (container images by digest)."""


@group.command("refresh-images")
@click.option("--catalog", "catalog_path", type=click.Path(path_type=Path), default=None,
              help="The catalog to refresh (default: the one this pipegen ships, images/catalog.yaml in a checkout).")
@click.option("--registry", "registry", default=None, metavar="URL",
              help="Ask this registry instead of each entry's own (a mirror).")
@click.option("--check", is_flag=True, help="Change nothing: exit 1 when a digest is out of date.")
def refresh_images_command(catalog_path: Path | None, registry: str | None, check: bool) -> None:
    """Ask each catalogued image's registry for its tag's current multi-arch index digest (the
    Docker Registry v2 / OCI manifest API, anonymously) and rewrite the catalog's `digest` and
    `recorded` lines for those that moved. Then regenerate the pipelines (`pipegen generate`)."""
    from pipegen.pins.registry import refreshed_digests, rewrite_catalog  # pylint: disable=import-outside-toplevel

    path = catalog_path or shipped_catalog_path()
    catalog = read_catalog(path)
    current = refreshed_digests(catalog, registry)
    moved = {reference: digest for reference, digest in current.items() if catalog[reference].digest != digest}
    for reference in catalog:
        state = f"{catalog[reference].digest} -> {moved[reference]}" if reference in moved else "up to date"
        click.echo(f"{reference}: {state}")
    if not moved:
        return
    if check:
        raise CheckFailed(f"{len(moved)} pinned image(s) are behind their tags: run pipegen pins refresh-images")
    text = paths.read_text(path, MAX_CATALOG_BYTES, root=path.parent)
    atomic_write(path, rewrite_catalog(text, moved, datetime.date.today().isoformat()))
    click.echo(f"{path}: {len(moved)} digest(s) updated; regenerate the pipelines with pipegen generate")
