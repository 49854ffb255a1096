"""The project descriptor (`pipegen.yaml`): load with positions, validate, build the typed model."""
from pipegen.descriptor.loader import load_descriptor
from pipegen.descriptor.model import Descriptor

__all__ = ["Descriptor", "load_descriptor"]
