"""Compiled templates kept between runs: compiling the four Jinja templates costs more
than everything else `pipegen generate` does, so their bytecode is cached in a private
folder of the user's cache directory (Jinja checks each template's source checksum, so
an edited template is compiled again).

The folder: $PIPEGEN_CACHE_DIR, else $XDG_CACHE_HOME/pipegen, else ~/.cache/pipegen; one
subfolder per pipegen version and environment options. PIPEGEN_CACHE_DIR=off turns the
cache off. A folder that cannot be made, is not ours or is writable by others is not
used (its bytecode would run as our code); a read-only one only costs the compile.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import jinja2

from pipegen import __version__


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Never fails a render: a cache that cannot be written is compiled around."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _base_dir() -> Path | None:
    configured = os.environ.get("PIPEGEN_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "false", "no") else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "pipegen"
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".cache" / "pipegen" if home and os.path.isabs(home) else None


def _private_dir(path: Path) -> bool:
    """True when `path` is a real folder owned by us and writable by nobody else."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()


def bytecode_cache(options: dict) -> jinja2.BytecodeCache | None:
    """The cache for templates compiled with `options` (the Environment's keyword
    arguments, by name), or None when there is no usable private folder."""
    base = _base_dir()
    if base is None:
        return None
    key = hashlib.sha256(repr(sorted(options.items())).encode()).hexdigest()[:12]
    folder = base / f"templates-{__version__}-{key}"
    if not (_private_dir(base) and _private_dir(folder)):
        return None
    return _QuietBytecodeCache(str(folder), "%s.jinja")
