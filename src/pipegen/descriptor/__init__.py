"""The project descriptor (`pipegen.yaml`): load with positions, validate, build the typed model.

`load_descriptor` and `Descriptor` are imported on first use (PEP 562): a command that reads
one setting or constant of a submodule (`pipegen diff`) does not pay for the loader."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipegen.descriptor.loader import load_descriptor
    from pipegen.descriptor.model import Descriptor

__all__ = ["Descriptor", "load_descriptor"]
_WHERE = {"load_descriptor": "pipegen.descriptor.loader", "Descriptor": "pipegen.descriptor.model"}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
