"""The --venv-cache seed: keyed on every install input, copied as hard links, relocated
without touching the cached copy."""
from __future__ import annotations

from pathlib import Path

from pipegen.run import venv as venvs


def fake_venv(path: Path) -> Path:
    """A venv's relocatable parts: a script naming its own interpreter, pyvenv.cfg, a library file."""
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "tool").write_text(f"#!{path}/bin/python\nprint('tool')\n", encoding="utf-8")
    (path / "bin" / "tool").chmod(0o755)
    (path / "bin" / "python").symlink_to("/usr/bin/python3")
    (path / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3 -m venv {path}\n",
                                     encoding="utf-8")
    (path / "lib").mkdir()
    (path / "lib" / "module.py").write_text("VALUE = 1\n", encoding="utf-8")
    return path


def test_a_seeded_venv_names_itself_and_leaves_the_cache_alone(tmp_path):
    first = fake_venv(tmp_path / "job-1" / "venv")
    cache = tmp_path / "cache"
    venvs.store_in_cache(cache, "key", first)
    second = tmp_path / "job-2" / "venv"
    second.parent.mkdir()
    assert venvs.seed_from_cache(cache, "key", second)
    assert (second / "bin" / "tool").read_text(encoding="utf-8").startswith(f"#!{second}/bin/python\n")
    assert (second / "bin" / "tool").stat().st_mode & 0o111
    assert f"venv {second}" in (second / "pyvenv.cfg").read_text(encoding="utf-8")
    assert (second / "bin" / "python").readlink() == Path("/usr/bin/python3")
    assert (second / "lib" / "module.py").stat().st_ino == (cache / "key" / "venv" / "lib" / "module.py").stat().st_ino
    assert (cache / "key" / "venv" / "bin" / "tool").read_text(encoding="utf-8").startswith(f"#!{first}/")
    assert not venvs.seed_from_cache(cache, "other-key", tmp_path / "job-3" / "venv")


def test_pipegens_own_venv_inside_the_jobs_is_relocated_with_it(tmp_path):
    """The generated install puts pipegen's venv at $VIRTUAL_ENV/pipegen/venv under `pipegen run`: a
    seeded job venv carries it, and its scripts must name the new place or `pipegen` would not start."""
    first = fake_venv(tmp_path / "job-1" / "venv")
    fake_venv(first / "pipegen" / "venv")
    cache = tmp_path / "cache"
    venvs.store_in_cache(cache, "key", first)
    second = tmp_path / "job-2" / "venv"
    second.parent.mkdir()
    assert venvs.seed_from_cache(cache, "key", second)
    nested = second / "pipegen" / "venv"
    assert (nested / "bin" / "tool").read_text(encoding="utf-8").startswith(f"#!{nested}/bin/python\n")
    assert f"venv {nested}" in (nested / "pyvenv.cfg").read_text(encoding="utf-8")
    cached = cache / "key" / "venv" / "pipegen" / "venv" / "bin" / "tool"
    assert cached.read_text(encoding="utf-8").startswith(f"#!{first}/pipegen/venv/bin/python")


def test_the_key_follows_every_install_input(tmp_path):
    (tmp_path / "requirements.txt").write_text("-r base.txt\nrequests\n", encoding="utf-8")
    (tmp_path / "base.txt").write_text("numpy\n", encoding="utf-8")
    key = venvs.cache_key("python3.11", ("python -m pip install -r requirements.txt",), ("requirements.txt",), tmp_path)
    assert key == venvs.cache_key("python3.11", ("python -m pip install -r requirements.txt",),
                                  ("requirements.txt",), tmp_path)
    assert key != venvs.cache_key("python3.12", ("python -m pip install -r requirements.txt",),
                                  ("requirements.txt",), tmp_path)
    (tmp_path / "base.txt").write_text("numpy<2\n", encoding="utf-8")  # an included file changed
    changed = venvs.cache_key("python3.11", ("python -m pip install -r requirements.txt",), ("requirements.txt",),
                              tmp_path)
    assert changed != key
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert venvs.cache_key("python3.11", ("python -m pip install -r requirements.txt",), ("requirements.txt",),
                           tmp_path) != changed
