"""Where the templates, shipped gate profiles and pinned-image catalog are: inside the installed wheel, or
at the top of a source checkout (editable installs and running from the repo)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """`templates`, `gates` or `images`: the wheel's copy first, else the checkout's."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pipegen data folder {name!r} is missing from this installation")


def templates_dir() -> Path:
    return data_dir("templates")


def gate_profiles_dir() -> Path:
    return data_dir("gates")
