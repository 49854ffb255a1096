"""Compiled templates are cached in a private folder and give byte-identical output; a
cache that cannot be used never breaks rendering."""
from __future__ import annotations

import os

import jinja2

from pipegen.generate.render import render_file
from pipegen.platforms.template_cache import bytecode_cache

TARGETS = ("github", "gitlab", "azure", "jenkins")


def _render_all(plan) -> dict[str, str]:
    return {target: render_file(plan, target).text for target in TARGETS}


def test_cached_templates_render_the_same_bytes(churn_plan, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", "off")
    uncached = _render_all(churn_plan)
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    first = _render_all(churn_plan)  # compiles and stores
    cached = sorted(tmp_path.glob("cache/*/*.jinja"))
    assert len(cached) == len(TARGETS)
    second = _render_all(churn_plan)  # loads the stored bytecode
    assert first == second == uncached
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == oct(0o700)


def test_a_cache_that_cannot_be_written_only_costs_the_compile(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    cache = bytecode_cache({})
    os.rmdir(cache.directory)  # gone after the check: writing the bytecode fails
    environment = jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ 1 + 1 }}"}), bytecode_cache=cache)
    assert environment.get_template("t").render() == "2"


def test_a_folder_others_can_write_is_not_used(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(folder))
    assert bytecode_cache({"trim_blocks": True}) is None


def test_a_file_where_the_folder_should_be_is_not_used(tmp_path, monkeypatch) -> None:
    (tmp_path / "cache").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path / "cache"))
    assert bytecode_cache({}) is None
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", "off")
    assert bytecode_cache({}) is None


def test_options_get_their_own_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PIPEGEN_CACHE_DIR", str(tmp_path))
    one, other = bytecode_cache({"trim_blocks": True}), bytecode_cache({"trim_blocks": False})
    assert one.directory != other.directory
